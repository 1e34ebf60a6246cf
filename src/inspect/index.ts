/** The token inspector: pure logic (inspectToken) and its text rendering (renderReport). */
export {
  inspectToken,
  type Check,
  type CheckStatus,
  type InspectOptions,
  type TimeClaim,
  type TokenReport,
} from './inspect-token';
export { renderReport } from './render';
export { duration, relative } from './durations';
