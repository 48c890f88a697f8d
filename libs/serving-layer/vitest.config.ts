import { lambdalineVitestConfig } from '../../vitest.shared';

export default lambdalineVitestConfig();
