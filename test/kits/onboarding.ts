// The lamp lists of the onboarding tests: the simulators' (so the benchmark sends the same files).
export { lampCsv, lampRow, LAMP_CSV_HEADER } from '../../simulators/index.ts';
