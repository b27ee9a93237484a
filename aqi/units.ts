// Mass concentration (µg/m³, as the stations report) to mixing ratio (ppm, ppb, as the US EPA's O₃ and NO₂
// breakpoints are written), for an ideal gas at 25 °C and 1 atm — the reference conditions of the EPA's
// gaseous standards. Neither the molar volume nor the molar masses are in docs/domain.md; they come from:
// - the molar gas constant R = 8.314 462 618 153 24 J/(mol·K), exact since the 2019 SI redefinition
//   (R = N_A·k), T = 298.15 K, p = 101 325 Pa: Vm = R·T/p = 24.465 L/mol. Many agencies round it to
//   24.45 L/mol; the difference, 0.06 %, matters only at a truncation boundary;
// - IUPAC's conventional standard atomic weights, N 14.007 and O 15.999: O₃ 47.997 g/mol, NO₂ 46.005 g/mol.

export const GAS_CONSTANT_J_PER_MOL_K = 8.31446261815324;
export const REFERENCE_TEMPERATURE_K = 298.15;
export const REFERENCE_PRESSURE_PA = 101_325;
/** Litres per mole at 25 °C and 1 atm: 24.4654… */
export const MOLAR_VOLUME_L_PER_MOL =
  ((GAS_CONSTANT_J_PER_MOL_K * REFERENCE_TEMPERATURE_K) / REFERENCE_PRESSURE_PA) * 1000;

const O = 15.999;
const N = 14.007;
export const MOLAR_MASS_G_PER_MOL = { o3: 3 * O, no2: N + 2 * O } as const;
export type Gas = keyof typeof MOLAR_MASS_G_PER_MOL;

/** µg/m³ → ppb (nmol/mol): c · Vm / M. */
export function ugm3ToPpb(gas: Gas, ugm3: number): number {
  return (ugm3 * MOLAR_VOLUME_L_PER_MOL) / MOLAR_MASS_G_PER_MOL[gas];
}

/** ppb → µg/m³, the inverse of `ugm3ToPpb`. */
export function ppbToUgm3(gas: Gas, ppb: number): number {
  return (ppb * MOLAR_MASS_G_PER_MOL[gas]) / MOLAR_VOLUME_L_PER_MOL;
}

/** O₃ µg/m³ → ppm, the unit of the EPA's O₃ breakpoints. */
export function o3Ugm3ToPpm(ugm3: number): number {
  return ugm3ToPpb('o3', ugm3) / 1000;
}

/** NO₂ µg/m³ → ppb, the unit of the EPA's NO₂ breakpoints. */
export function no2Ugm3ToPpb(ugm3: number): number {
  return ugm3ToPpb('no2', ugm3);
}
