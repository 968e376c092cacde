/**
 * How machines are named in output (fleet's machineIDLegend and
 * machineFullLegend), shared by operation messages and list tables so both
 * always agree.
 */
export interface MachineLike {
  id: string;
  publicIP?: string;
}

/** "113f16a7..." or, with full, the whole id. */
export function machineIdLegend(id: string, full: boolean): string {
  return full ? id : `${id.slice(0, 8)}...`;
}

/** The id legend plus "/<ip>" when the IP is known: "113f16a7.../172.17.8.103". */
export function machineFullLegend(machine: MachineLike, full: boolean): string {
  const legend = machineIdLegend(machine.id, full);
  return machine.publicIP ? `${legend}/${machine.publicIP}` : legend;
}
