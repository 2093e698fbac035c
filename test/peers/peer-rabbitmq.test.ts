/**
 * The rabbitmq real-broker adapter's own tests, then the rabbitmq model's conformance suites, against the
 * real broker (both skip, with the reason, when it is not running). One file, so nothing else
 * uses the broker while a suite check restarts it.
 */
import t from 'tap';
import { rabbitmqAdapterTests } from './rabbitmq-adapter';
import { runPeerSuite } from './run-suite';

t.test('rabbitmq adapter on the real broker', async (t) => rabbitmqAdapterTests(t));
t.test('rabbitmq conformance suites on the real broker', (t) => runPeerSuite(t, 'rabbitmq'));
