import { lambdalineVitestConfig } from '../../vitest.shared';

// Kafka tests spawn the built CLI and wait for batches: give them room.
export default lambdalineVitestConfig({ unitTimeoutMs: 60_000, kafkaTimeoutMs: 300_000 });
