let counter = 0

/** A complete, valid DCAT-AP.de dataset for package_create. */
export function validDataset(org: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter++
  return {
    name: `datensatz-${org}-${process.pid}-${counter}`,
    title: `Radverkehrszählung ${counter}`,
    notes: 'Zählstellen des Radverkehrs mit stündlichen Werten.',
    owner_org: org,
    license_id: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0',
    tags: [{ name: 'radverkehr' }],
    groups: [{ name: 'tran' }],
    extras: [{ key: 'frequency', value: 'DAILY' }],
    resources: [{ url: 'https://example.org/zaehlung.csv', format: 'CSV', name: 'Zählwerte', license: 'http://dcat-ap.de/def/licenses/dl-by-de/2.0' }],
    ...overrides,
  }
}
