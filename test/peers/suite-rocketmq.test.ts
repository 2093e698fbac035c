/** The rocketmq model's conformance suites against the real broker (skips when it is not running). */
import t from 'tap';
import { runPeerSuite } from './run-suite';

t.test('rocketmq conformance suites on the real broker', (t) => runPeerSuite(t, 'rocketmq'));
