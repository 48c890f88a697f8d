import { lambdalineVitestConfig } from '../../vitest.shared.ts';

export default lambdalineVitestConfig();
