/**
 * Example requests of the write actions, shown in the OpenAPI document and the Swagger UI ("Try it out"
 * starts from the first one). They are one story told in order on a fresh catalog: Marburg publishes its
 * budget, adds and edits a PDF, deletes and purges the dataset; a sysadmin adds Bad Homburg as a Kommune
 * and a theme; a token is issued and revoked. test/openapi-examples.test.ts runs every one of them through
 * the API in that order, so each example is a request that works (or fails as it says it does).
 */

/** One example request of an action (an OpenAPI Example Object, with the answer it is meant to get). */
export interface ActionExample {
  summary: string
  description?: string
  /** The JSON body of the request. */
  value: Record<string, unknown>
  /** The status the example answers with in the story above: 200 unless it shows an error. */
  status?: 200 | 409
}

const DATASET = 'haushaltsplan-marburg-2025'
const LICENSE = 'http://dcat-ap.de/def/licenses/dl-by-de/2.0'
/** The id resource_create gives the PDF (only a UUID may be chosen), so that the later examples can name it. */
const PDF_RESOURCE_ID = '5f0c8b1e-3d2a-4c7e-9b61-2a8e4f7d9c35'
const NEW_KOMMUNE = 'bad-homburg'
/** The user the membership and token examples are about (an account that exists). */
export const EXAMPLE_USER = 'erika-mustermann'
/** The token id (jti) api_token_revoke names: one of EXAMPLE_USER's tokens. */
export const EXAMPLE_TOKEN_ID = '0d6f3a52-8c1b-4e57-a9d4-6b2e7c1f8a90'

const budgetCsv = {
  name: 'Haushaltsplan 2025 (CSV)',
  description: 'Ansätze des Ergebnis- und Finanzhaushalts je Produkt, in Euro.',
  url: 'https://www.marburg.de/opendata/haushalt/haushaltsplan-2025.csv',
  format: 'CSV',
  license: LICENSE,
}

const budgetDataset = {
  name: DATASET,
  title: 'Haushaltsplan 2025 der Universitätsstadt Marburg',
  notes:
    'Ergebnis- und Finanzhaushalt der Universitätsstadt Marburg für das Haushaltsjahr 2025, gegliedert nach Produktbereichen und Produkten, wie von der Stadtverordnetenversammlung beschlossen.',
  owner_org: 'marburg',
  license_id: LICENSE,
  maintainer: 'Fachdienst Finanzen',
  maintainer_email: 'finanzen@marburg.de',
  tags: [{ name: 'haushalt' }, { name: 'finanzen' }, { name: 'haushaltsplan' }],
  groups: [{ name: 'econ' }, { name: 'gove' }],
  extras: [
    { key: 'frequency', value: 'ANNUAL' },
    { key: 'language', value: '["de"]' },
    { key: 'temporal_start', value: '2025-01-01' },
    { key: 'temporal_end', value: '2025-12-31' },
  ],
  resources: [budgetCsv],
}

const budgetPdf = {
  name: 'Haushaltsplan 2025 (PDF)',
  description: 'Der beschlossene Haushaltsplan als Druckfassung.',
  url: 'https://www.marburg.de/opendata/haushalt/haushaltsplan-2025.pdf',
  format: 'PDF',
  license: LICENSE,
}

const { resources: _resources, ...budgetWithoutResources } = budgetDataset

const badHomburg = {
  name: NEW_KOMMUNE,
  title: 'Stadt Bad Homburg vor der Höhe',
  description: 'Offene Daten der Kreisstadt Bad Homburg vor der Höhe im Hochtaunuskreis.',
  homepage: 'https://www.bad-homburg.de',
  email: 'opendata@bad-homburg.de',
  regional_key: '064340001001',
  political_geocoding_uri: 'http://dcat-ap.de/def/politicalGeocoding/regionalKey/064340001001',
  political_geocoding_level_uri: 'http://dcat-ap.de/def/politicalGeocoding/Level/municipality',
}

export const ACTION_EXAMPLES: Readonly<Record<string, Readonly<Record<string, ActionExample>>>> = {
  package_create: {
    complete: {
      summary: 'A complete dataset (DCAT-AP.de)',
      description: 'Publishes the 2025 budget of Marburg with one CSV distribution. The caller must be an editor or admin of `marburg`.',
      value: budgetDataset,
    },
    draft: {
      summary: 'A draft',
      description: 'Drafts skip the DCAT-AP.de completeness rules: a title and a Kommune are enough to start.',
      value: { name: 'baumkataster-marburg', title: 'Baumkataster der Universitätsstadt Marburg', owner_org: 'marburg', state: 'draft' },
    },
    incomplete: {
      summary: 'Refused: incomplete (409)',
      description: 'No description and a distribution without licence or known format: one 409 names every problem, the DCAT-AP.de findings under `dcat_ap_de`.',
      value: { name: 'parkplaetze-marburg', title: 'Parkplätze', owner_org: 'marburg', resources: [{ url: 'https://www.marburg.de/opendata/parkplaetze.xlsx', format: 'Tabelle' }] },
      status: 409,
    },
  },
  package_update: {
    replace: {
      summary: 'Replace the fields of a dataset',
      description: 'The whole dict as it should be; the resources are kept because the list is left out.',
      value: {
        ...budgetWithoutResources,
        id: DATASET,
        title: 'Haushaltsplan 2025 der Universitätsstadt Marburg (beschlossen)',
        notes: 'Ergebnis- und Finanzhaushalt der Universitätsstadt Marburg für das Haushaltsjahr 2025, beschlossen von der Stadtverordnetenversammlung am 13. Dezember 2024.',
      },
    },
  },
  package_patch: {
    tags: {
      summary: 'Change some fields',
      description: 'Only the given keys change; the given `tags` list replaces the whole list.',
      value: { id: DATASET, version: '2025-1', tags: [{ name: 'haushalt' }, { name: 'finanzen' }, { name: 'doppik' }] },
    },
  },
  resource_create: {
    pdf: {
      summary: 'Add a PDF to the dataset',
      value: { package_id: DATASET, id: PDF_RESOURCE_ID, ...budgetPdf },
    },
  },
  resource_update: {
    replace: {
      summary: 'Replace a resource',
      value: { id: PDF_RESOURCE_ID, ...budgetPdf, url: 'https://www.marburg.de/opendata/haushalt/haushaltsplan-2025-beschlossen.pdf' },
    },
  },
  resource_patch: {
    describe: {
      summary: 'Change the description of a resource',
      value: { id: PDF_RESOURCE_ID, description: 'Der beschlossene Haushaltsplan 2025 als Druckfassung (284 Seiten).' },
    },
  },
  package_resource_reorder: {
    pdfFirst: {
      summary: 'Put the PDF first',
      description: 'Resources not listed follow in their old order.',
      value: { id: DATASET, order: [PDF_RESOURCE_ID] },
    },
  },
  resource_delete: {
    pdf: { summary: 'Remove the PDF', value: { id: PDF_RESOURCE_ID } },
  },
  package_delete: {
    byName: { summary: 'Delete a dataset by name', value: { id: DATASET } },
  },
  dataset_purge: {
    byName: { summary: 'Remove a deleted dataset for good', value: { id: DATASET } },
  },
  organization_create: {
    kommune: { summary: 'Add a Kommune', value: badHomburg },
  },
  organization_update: {
    replace: {
      summary: 'Replace the details of a Kommune',
      description: 'Title, description, image, homepage and e-mail left out are cleared.',
      value: { ...badHomburg, id: NEW_KOMMUNE, email: 'open-data@bad-homburg.de' },
    },
  },
  organization_patch: {
    homepage: { summary: 'Change the homepage of a Kommune', value: { id: NEW_KOMMUNE, homepage: 'https://www.bad-homburg.de/de/rathaus' } },
  },
  organization_member_create: {
    editor: { summary: 'Make a user an editor of a Kommune', value: { id: NEW_KOMMUNE, username: EXAMPLE_USER, role: 'editor' } },
  },
  organization_member_delete: {
    editor: { summary: 'Remove a user from a Kommune', value: { id: NEW_KOMMUNE, username: EXAMPLE_USER } },
  },
  organization_delete: {
    empty: { summary: 'Delete a Kommune without datasets', value: { id: NEW_KOMMUNE } },
  },
  group_create: {
    theme: {
      summary: 'Add an EU data theme',
      value: {
        name: 'op_datpro',
        title: 'Vorläufige Daten',
        description: 'Datensätze mit vorläufigen Werten, die noch geprüft werden.',
        uri: 'http://publications.europa.eu/resource/authority/data-theme/OP_DATPRO',
      },
    },
  },
  group_update: {
    describe: { summary: 'Change the description of a group', value: { id: 'op_datpro', description: 'Vorläufige Werte, zum Beispiel Hochrechnungen vor dem Jahresabschluss.' } },
  },
  api_token_create: {
    yearly: {
      summary: 'A token for a specialist application, valid for a year',
      description: 'The answer holds the token once; only its hash is stored.',
      value: { user: EXAMPLE_USER, name: 'Fachverfahren Haushalt', expires_in: 31_536_000 },
    },
  },
  api_token_revoke: {
    byId: { summary: 'Revoke a token by its id (jti)', value: { jti: EXAMPLE_TOKEN_ID } },
  },
  harvest_source_create: {
    ckan: {
      summary: "Harvest a Kommune's own CKAN portal",
      value: { name: 'marburg-portal', title: 'Open-Data-Portal Marburg', source_type: 'ckan', url: 'https://opendata.marburg.de', owner_org: 'marburg', frequency_hours: 24, config: { organizations: ['stadt-marburg'] } },
    },
  },
  harvest_source_update: {
    replace: { summary: 'Replace the settings of a harvest source', value: { id: 'marburg-portal', title: 'Open-Data-Portal der Stadt Marburg', source_type: 'ckan', url: 'https://opendata.marburg.de', frequency_hours: 12 } },
  },
  harvest_source_patch: {
    interval: { summary: 'Harvest a source every six hours', value: { id: 'marburg-portal', frequency_hours: 6 } },
  },
  harvest_job_create: {
    now: { summary: 'Run a source now (a complete run)', value: { source_id: 'marburg-portal', full: true } },
  },
  harvest_job_abort: {
    current: { summary: "Abort a source's current job", value: { source_id: 'marburg-portal' } },
  },
  harvest_source_delete: {
    detach: { summary: 'Delete a source, keeping its datasets as ordinary ones', value: { id: 'marburg-portal', clear: false } },
  },
}
