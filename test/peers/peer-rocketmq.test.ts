/**
 * The rocketmq real-broker adapter's own tests, then the rocketmq model's conformance suites, against the
 * real broker (both skip, with the reason, when it is not running). One file, so nothing else
 * uses the broker while a suite check restarts it.
 */
import t from 'tap';
import { rocketmqAdapterTests } from './rocketmq-adapter';
import { runPeerSuite } from './run-suite';

t.test('rocketmq adapter on the real broker', async (t) => rocketmqAdapterTests(t));
t.test('rocketmq conformance suites on the real broker', (t) => runPeerSuite(t, 'rocketmq'));
