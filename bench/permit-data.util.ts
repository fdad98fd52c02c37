/** The benchmark's data, shared by the apps, the seeders and the load runner (which must not load the package). */
export const STATUSES = ['draft', 'submitted', 'approved', 'rejected'] as const;
export const COUNTIES = ['Travis', 'Harris', 'Dallas', 'Bexar', 'Tarrant'] as const;

export interface PermitData {
  number: string;
  client: string;
  county: string;
  status: string;
  amount: number;
  inspector: string;
  notes: string;
}

/** The i-th permit; client and county both follow i (modulo 200 and 5), so a client's permits share one county. */
export function permitData(i: number, tag = ''): PermitData {
  return {
    number: `BP-${tag}${i}`,
    client: `client-${i % 200}`,
    county: COUNTIES[i % COUNTIES.length]!,
    status: STATUSES[i % STATUSES.length]!,
    amount: (i * 7919) % 100_000,
    inspector: `inspector-${i % 37}`,
    notes: 'routine inspection of the premises, nothing unusual to report',
  };
}
