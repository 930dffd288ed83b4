/**
 * The harvesters whose visits are counted as `harvester_visit` (not as views), recognised by their
 * User-Agent header. The header is looked at while the request is answered and never stored or logged.
 *
 * - ckanext-harvest's CKAN harvester and ckanext-dcat's RDF harvester (`ckanext-harvest`, `ckanext-dcat`,
 *   and CKAN's default `CKAN/x.y` requests);
 * - GovData's DCAT-AP.de harvester (ckanext-dcatde: `GovData`, `ckanext-dcatde`);
 * - data.europa.eu / piveau (`piveau`, `data.europa.eu`, `European Data Portal`);
 * - udata's harvester (`udata`);
 * - Python requests without a User-Agent of its own (`python-requests/`), which is how ckanext-harvest
 *   and many scripted harvesters call (a count of machine visits, not of people);
 * - this service's own link checker (`GoDonuLinkChecker`).
 */
export const HARVESTER_AGENTS: readonly RegExp[] = [
  /ckanext-harvest/i,
  /ckanext-dcat/i,
  /\bckan\/\d/i,
  /govdata/i,
  /piveau/i,
  /data\.europa\.eu/i,
  /european data portal/i,
  /\budata\b/i,
  /python-requests\//i,
  /GoDonuLinkChecker/i,
]

/** Whether a User-Agent header names a known harvester (see HARVESTER_AGENTS). */
export function isHarvester(userAgent: string | string[] | undefined): boolean {
  if (typeof userAgent !== 'string' || userAgent === '') return false
  // A header is bounded by the server's header limits; only its start is looked at.
  const start = userAgent.slice(0, 512)
  return HARVESTER_AGENTS.some((pattern) => pattern.test(start))
}
