/**
 * The kafka real-broker adapter's own tests, then the kafka model's conformance suites, against the
 * real broker (both skip, with the reason, when it is not running). One file, so nothing else
 * uses the broker while a suite check restarts it.
 */
import t from 'tap';
import { kafkaAdapterTests } from './kafka-adapter';
import { runPeerSuite } from './run-suite';

t.test('kafka adapter on the real broker', async (t) => kafkaAdapterTests(t));
t.test('kafka conformance suites on the real broker', (t) => runPeerSuite(t, 'kafka'));
