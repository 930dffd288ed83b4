import { Type } from '@sinclair/typebox'
import { defineAction } from '../action.js'

export const siteRead = defineAction({
  name: 'site_read',
  sideEffectFree: true,
  summary: 'Whether the site may be read (always true)',
  description: 'CKAN 2.9/2.10 action kept for older clients: returns true.',
  tags: ['site'],
  input: Type.Object({}),
  result: Type.Boolean(),
  handler: async () => true,
})

export const statusShow = defineAction({
  name: 'status_show',
  sideEffectFree: true,
  summary: 'Site status: title, URL, CKAN-compatible version',
  description: 'As CKAN status_show. `ckan_version` tells clients which CKAN API this service mirrors.',
  tags: ['site'],
  input: Type.Object({}),
  result: Type.Object({
    site_title: Type.String(),
    site_description: Type.String(),
    site_url: Type.String(),
    error_emails_to: Type.Null(),
    locale_default: Type.String(),
    extensions: Type.Array(Type.String()),
    ckan_version: Type.String(),
  }),
  handler: async ({ config }) => ({
    site_title: config.siteTitle,
    site_description: config.siteDescription,
    site_url: config.baseUrl,
    error_emails_to: null,
    locale_default: config.localeDefault,
    extensions: ['dcat', 'dcatde', 'godonu'],
    ckan_version: '2.10.5',
  }),
})

export const licenseList = defineAction({
  name: 'license_list',
  sideEffectFree: true,
  summary: 'The licences datasets may carry (dcat-ap.de licence URIs as ids)',
  description: 'As CKAN license_list. Licence ids are the dcat-ap.de licence URIs, as on GovData.',
  tags: ['site'],
  input: Type.Object({}),
  result: Type.Array(Type.Any()),
  handler: async ({ service }) => service.listLicenses(),
})
