import { createHash } from 'node:crypto'
import type { OrganizationTable } from '../db/types.js'
import type { PackageInput, ResourceInput } from './package.js'
import type { Vocabularies } from './vocabularies.js'

/**
 * Deterministic synthetic datasets of Hessian Kommunen, for load tests, demos and benchmarks.
 *
 * Dataset `i` of seed `s` depends only on (s, i) and the reference data (organizations sorted by name, the
 * vocabularies, the theme ids): its PRNG is seeded from a SHA-256 of (s, i), so any slice can be generated
 * on its own (`startIndex`) and two runs give identical datasets. Ids and names carry (s, i), so different
 * seeds never collide. Nothing here reads the clock or Math.random.
 */

export type SyntheticOrganization = Pick<
  OrganizationTable,
  'id' | 'name' | 'title' | 'political_geocoding_uri' | 'political_geocoding_level_uri' | 'regional_key'
> & { homepage?: string; email?: string }

export interface GenerateOptions {
  count: number
  seed: number
  vocab: Vocabularies
  organizations: SyntheticOrganization[]
  /** Theme code (`TRAN`) -> theme id in the store. */
  themeIds: Map<string, string>
  /** Index of the first dataset (default 0): indexes startIndex .. startIndex+count-1 are generated. */
  startIndex?: number
}

// ---------------------------------------------------------------------------------------------------------
// PRNG: sfc32, 128-bit state taken from a SHA-256 digest.

export type Rng = () => number

export function sfc32(a: number, b: number, c: number, d: number): Rng {
  return () => {
    a >>>= 0
    b >>>= 0
    c >>>= 0
    d >>>= 0
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return (t >>> 0) / 4294967296
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

const MAX_INDEX = 2 ** 48 - 1

/**
 * A UUID v4-form id (version nibble 4, variant 8) that sorts by (seed, index): 32 bits of a hash of the seed,
 * 48 bits of the index, one hex digit for the kind (0 = dataset, 1..f = resource position + 1) and 36
 * pseudo-random bits. Successive datasets of a seed get ascending ids, so bulk inserts append to the primary
 * keys (and the package_id-first keys of the child tables) instead of scattering over the B-trees.
 */
function orderedUuid(seedPrefix: string, index: number, kind: number, tail: string): string {
  const x = index.toString(16).padStart(12, '0')
  return `${seedPrefix}-${x.slice(0, 4)}-4${x.slice(4, 7)}-8${x.slice(7, 10)}-${x.slice(10, 12)}${kind.toString(16)}${tail}`
}

function seedPrefixOf(seed: number): string {
  return digest(`godonu-synthetic-seed/${seed}`).toString('hex').slice(0, 8)
}

function datasetDigest(seed: number, index: number): Buffer {
  return digest(`godonu-synthetic/${seed}/${index}`)
}

/** The id of dataset `index` of `seed`. */
export function syntheticDatasetId(seed: number, index: number): string {
  return orderedUuid(seedPrefixOf(seed), index, 0, datasetDigest(seed, index).toString('hex', 16, 21).slice(0, 9))
}

const int = (rng: Rng, min: number, max: number) => min + Math.floor(rng() * (max - min + 1))
const pick = <T>(rng: Rng, items: readonly T[]): T => items[Math.floor(rng() * items.length)]!
const chance = (rng: Rng, p: number) => rng() < p

function weighted<T>(rng: Rng, items: ReadonlyArray<readonly [T, number]>): T {
  let total = 0
  for (const [, w] of items) total += w
  let r = rng() * total
  for (const [item, w] of items) {
    r -= w
    if (r < 0) return item
  }
  return items[items.length - 1]![0]
}

/** `count` distinct items, in the order drawn. */
function sample<T>(rng: Rng, items: readonly T[], count: number): T[] {
  const pool = [...items]
  const out: T[] = []
  while (out.length < count && pool.length) out.push(pool.splice(Math.floor(rng() * pool.length), 1)[0]!)
  return out
}

// ---------------------------------------------------------------------------------------------------------
// Text helpers.

/** CKAN name form: lower-case a-z, 0-9 and '-', German letters transliterated. */
export function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/ä/g, 'ae')
    .replace(/ö/g, 'oe')
    .replace(/ü/g, 'ue')
    .replace(/ß/g, 'ss')
    .replace(/₂/g, '2')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
}

const PLACE_PREFIX =
  /^(Stadt|Universitätsstadt|documenta-Stadt|Kreisstadt|Wissenschaftsstadt|Landeshauptstadt|Hansestadt|Gemeinde|Marktgemeinde|Landkreis|Kreis)\s+/

/** `Universitätsstadt Gießen` -> `Gießen`. */
export function placeName(title: string): string {
  return title.replace(PLACE_PREFIX, '').trim() || title
}

/** Fills {placeholders}; a Kreis takes the article: "im Rheingau-Taunus-Kreis", "vom Rheingau-Taunus-Kreis". */
function fill(template: string, vars: Record<string, string>, district = false): string {
  const text = district ? template.replace(/\bin \{ort\}/g, 'im {ort}').replace(/\bvon \{ort\}/g, 'vom {ort}') : template
  return text.replace(/\{(\w+)\}/g, (m, key: string) => vars[key] ?? m)
}

const DAY = 86_400_000
const RANGE_START = Date.UTC(2015, 0, 1)
const RANGE_END = Date.UTC(2025, 5, 30)
const isoDate = (ms: number) => new Date(ms).toISOString().slice(0, 10)
const isoDateTime = (ms: number) => new Date(ms).toISOString().slice(0, 19)
const clampDate = (ms: number) => Math.min(RANGE_END, Math.max(RANGE_START, ms))

// ---------------------------------------------------------------------------------------------------------
// Topics.

interface Topic {
  key: string
  /** Title variants with {ort}, {jahr}, {gremium}, {teile}. */
  titles: string[]
  /** 1-3 sentences specific to the topic. */
  desc: string[]
  /** EU data-theme codes: the first always, the second often. */
  themes: string[]
  /** The Amt, composed with the Kommune's naming style: "Fachdienst Verkehr", "Amt für Verkehr". */
  amt: string
  tags: string[]
  /** EU file-type codes, most important first. */
  formats: string[]
  frequency: string
  /** Titles carry a year; several resources can be editions of earlier years. */
  yearly?: boolean
  /** Years to choose from instead of 2015-2024 (elections). */
  years?: number[]
  realtime?: boolean
  geo?: boolean
  stats?: boolean
}

const ALL_YEARS = [2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023, 2024]

/* prettier-ignore */
const TOPICS: Topic[] = [
  { key: 'haltestellen', titles: ['Haltestellen des ÖPNV in {ort} {jahr}', 'ÖPNV-Haltestellen {ort} – Stand {jahr}'], desc: ['Der Datensatz enthält alle Haltestellen des öffentlichen Personennahverkehrs (ÖPNV) in {ort} mit Bezeichnung, Koordinaten und den bedienenden Linien.', 'Barrierefreie Haltestellen sind gesondert gekennzeichnet.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['verkehr', 'haltestellen', 'öpnv', 'nahverkehr', 'bus', 'mobilität'], formats: ['CSV', 'GEOJSON', 'WFS_SRVC', 'KML'], frequency: 'ANNUAL', yearly: true, geo: true },
  { key: 'gtfs', titles: ['Fahrplandaten des Stadtbusverkehrs {ort} (GTFS)', 'Soll-Fahrplan ÖPNV {ort} {jahr} (GTFS)'], desc: ['Die Soll-Fahrplandaten des städtischen Busverkehrs werden im Format GTFS (General Transit Feed Specification) bereitgestellt.', 'Enthalten sind Linien, Fahrten, Haltestellen und Abfahrtszeiten für die gesamte Fahrplanperiode.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['fahrplan', 'gtfs', 'öpnv', 'bus', 'nahverkehr'], formats: ['GTFS', 'ZIP', 'PDF'], frequency: 'WEEKLY' },
  { key: 'kommunalwahl', titles: ['Wahlergebnisse Kommunalwahl {jahr} – Stimmbezirke', 'Kommunalwahl {jahr} in {ort}: Ergebnisse nach Wahlbezirken'], desc: ['Endgültige Ergebnisse der Kommunalwahl {jahr} in {ort} auf Ebene der Stimmbezirke, einschließlich Wahlbeteiligung und Briefwahlanteil.', 'Die Stimmenzahlen je Liste und Bewerberin bzw. Bewerber sind in getrennten Tabellen enthalten.'], themes: ['GOVE'], amt: 'Statistik und Wahlen', tags: ['wahlen', 'kommunalwahl', 'wahlergebnisse', 'stimmbezirke', 'politik'], formats: ['CSV', 'XLSX', 'JSON', 'PDF'], frequency: 'QUINQUENNIAL', yearly: true, years: [2016, 2021], stats: true },
  { key: 'bundestagswahl', titles: ['Bundestagswahl {jahr} – Ergebnisse in {ort}', 'Wahlergebnisse Bundestagswahl {jahr} nach Wahlbezirken'], desc: ['Erst- und Zweitstimmen der Bundestagswahl {jahr} für alle Wahlbezirke in {ort}.', 'Briefwahlbezirke sind den Urnenwahlbezirken nicht zugeordnet und werden gesondert ausgewiesen.'], themes: ['GOVE'], amt: 'Statistik und Wahlen', tags: ['wahlen', 'bundestagswahl', 'wahlergebnisse', 'wahlbezirke'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'QUADRENNIAL', yearly: true, years: [2017, 2021, 2025], stats: true },
  { key: 'landtagswahl', titles: ['Landtagswahl Hessen {jahr} – Ergebnisse {ort}'], desc: ['Ergebnisse der hessischen Landtagswahl {jahr} in {ort}, gegliedert nach Wahlbezirken.', 'Ausgewiesen werden Wahlberechtigte, Wählerinnen und Wähler, ungültige Stimmen sowie die Stimmen je Wahlvorschlag.'], themes: ['GOVE'], amt: 'Statistik und Wahlen', tags: ['wahlen', 'landtagswahl', 'hessen', 'wahlergebnisse'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'QUINQUENNIAL', yearly: true, years: [2018, 2023], stats: true },
  { key: 'europawahl', titles: ['Europawahl {jahr} in {ort} – Stimmbezirksergebnisse'], desc: ['Ergebnisse der Wahl zum Europäischen Parlament {jahr} in {ort} nach Stimmbezirken.'], themes: ['GOVE', 'INTR'], amt: 'Statistik und Wahlen', tags: ['wahlen', 'europawahl', 'europa', 'wahlergebnisse'], formats: ['CSV', 'JSON', 'PDF'], frequency: 'QUINQUENNIAL', yearly: true, years: [2019, 2024], stats: true },
  { key: 'baumkataster', titles: ['Baumkataster {ort}', 'Straßenbäume in {ort}'], desc: ['Das Baumkataster verzeichnet die städtischen Bäume an Straßen, in Grünanlagen und auf Spielplätzen mit Baumart, Pflanzjahr, Stammumfang und Kronendurchmesser.', 'Privatgrundstücke sind nicht erfasst.'], themes: ['ENVI'], amt: 'Grünflächen', tags: ['bäume', 'baumkataster', 'umwelt', 'grünflächen', 'stadtgrün'], formats: ['CSV', 'GEOJSON', 'WFS_SRVC', 'WMS_SRVC', 'SHP'], frequency: 'QUARTERLY', geo: true },
  { key: 'parkhaus', titles: ['Parkhausbelegung {ort} (Echtzeit)', 'Freie Stellplätze in Parkhäusern – {ort}'], desc: ['Aktuelle Belegung der Parkhäuser und Tiefgaragen im Parkleitsystem von {ort}, aktualisiert im Minutentakt.', 'Die Schnittstelle liefert Kapazität, freie Stellplätze und Öffnungsstatus je Parkhaus.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['parken', 'parkhaus', 'echtzeit', 'verkehr', 'parkleitsystem'], formats: ['JSON', 'XML', 'CSV'], frequency: 'CONT', realtime: true, geo: true },
  { key: 'einwohner-stadtteile', titles: ['Einwohnerinnen und Einwohner nach {teile} {jahr}', 'Bevölkerungsstand {ort} {jahr} – kleinräumig'], desc: ['Zahl der Einwohnerinnen und Einwohner mit Hauptwohnsitz in {ort} am 31.12.{jahr}, gegliedert nach {teile}.', 'Grundlage ist das Melderegister der {verwaltung}.'], themes: ['SOCI'], amt: 'Statistik und Wahlen', tags: ['bevölkerung', 'einwohner', 'statistik', 'stadtteile', 'demografie'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'altersgruppen', titles: ['Bevölkerung nach Altersgruppen und Geschlecht {jahr}'], desc: ['Die Tabelle zeigt die Bevölkerung von {ort} nach fünfjährigen Altersgruppen und Geschlecht zum Jahresende {jahr}.'], themes: ['SOCI'], amt: 'Statistik und Wahlen', tags: ['bevölkerung', 'altersstruktur', 'geschlecht', 'statistik', 'demografie'], formats: ['CSV', 'XLSX', 'JSON'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'geburten', titles: ['Geburten und Sterbefälle in {ort} {jahr}'], desc: ['Lebendgeborene und Gestorbene in {ort} im Jahr {jahr} nach Monaten, Geschlecht und Staatsangehörigkeit.', 'Die natürliche Bevölkerungsbewegung ergibt sich aus der Differenz beider Größen.'], themes: ['SOCI', 'HEAL'], amt: 'Bürgerservice', tags: ['geburten', 'sterbefälle', 'bevölkerung', 'standesamt', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'haushaltsplan', titles: ['Haushaltsplan {ort} {jahr}', 'Ergebnis- und Finanzhaushalt {jahr}'], desc: ['Der Haushaltsplan {jahr} enthält alle geplanten Erträge und Aufwendungen sowie Ein- und Auszahlungen der {verwaltung} {ort}, gegliedert nach Produktbereichen.', 'Die Daten folgen dem kommunalen Kontenrahmen des Landes Hessen.'], themes: ['ECON', 'GOVE'], amt: 'Finanzen', tags: ['haushalt', 'finanzen', 'haushaltsplan', 'doppik', 'verwaltung'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true },
  { key: 'jahresabschluss', titles: ['Jahresabschluss {jahr} der {verwaltung} {ort}'], desc: ['Vermögensrechnung, Ergebnisrechnung und Finanzrechnung des Haushaltsjahres {jahr}.', 'Die Werte sind in Euro angegeben und vom Revisionsamt geprüft.'], themes: ['ECON'], amt: 'Finanzen', tags: ['finanzen', 'jahresabschluss', 'bilanz', 'haushalt'], formats: ['XLSX', 'CSV', 'PDF'], frequency: 'ANNUAL', yearly: true },
  { key: 'gewerbe', titles: ['Gewerbeanmeldungen und -abmeldungen {jahr}'], desc: ['Anzahl der Gewerbeanmeldungen, -ummeldungen und -abmeldungen in {ort} im Jahr {jahr} nach Wirtschaftszweigen (WZ 2008).'], themes: ['ECON'], amt: 'Ordnung', tags: ['wirtschaft', 'gewerbe', 'gewerbeanmeldungen', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'kitas', titles: ['Kindertagesstätten in {ort}', 'Kitas und Kindertagespflege {ort} {jahr}'], desc: ['Standorte der Kindertageseinrichtungen in {ort} mit Träger, Adresse, Öffnungszeiten und Zahl der genehmigten Plätze für Krippe, Kindergarten und Hort.'], themes: ['EDUC', 'SOCI'], amt: 'Jugend und Familie', tags: ['kita', 'kinderbetreuung', 'familie', 'bildung', 'kindergarten'], formats: ['CSV', 'GEOJSON', 'JSON'], frequency: 'ANNUAL', geo: true },
  { key: 'schulen', titles: ['Schulstandorte {ort}', 'Allgemeinbildende und berufliche Schulen in {ort}'], desc: ['Verzeichnis der Schulen in {ort} mit Schulform, Schulträger, Anschrift und Geokoordinaten.', 'Ganztagsangebote sind mit einem Kennzeichen versehen.'], themes: ['EDUC'], amt: 'Bildung', tags: ['schulen', 'bildung', 'schulstandorte', 'grundschule'], formats: ['CSV', 'GEOJSON', 'WMS_SRVC'], frequency: 'ANNUAL', geo: true },
  { key: 'schuelerzahlen', titles: ['Schülerzahlen an allgemeinbildenden Schulen {jahr}'], desc: ['Schülerinnen und Schüler an den allgemeinbildenden Schulen in {ort} im Schuljahr {jahr}/{jahr2}, nach Schule, Jahrgangsstufe und Geschlecht.'], themes: ['EDUC'], amt: 'Bildung', tags: ['schule', 'schülerzahlen', 'bildung', 'statistik'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'spielplaetze', titles: ['Spielplätze in {ort}', 'Spiel- und Bolzplätze {ort}'], desc: ['Öffentliche Spielplätze und Bolzplätze in {ort} mit Altersempfehlung, Ausstattung und Lage.', 'Die Spielgeräte werden regelmäßig nach DIN EN 1176 geprüft.'], themes: ['SOCI'], amt: 'Grünflächen', tags: ['spielplätze', 'kinder', 'freizeit', 'grünflächen'], formats: ['GEOJSON', 'CSV', 'KML'], frequency: 'ANNUAL', geo: true },
  { key: 'bebauungsplaene', titles: ['Bebauungspläne {ort}', 'Rechtskräftige Bebauungspläne (XPlanung) – {ort}'], desc: ['Geltungsbereiche und Festsetzungen der rechtskräftigen Bebauungspläne in {ort}.', 'Die Pläne liegen als XPlanGML sowie als Kartendienst vor; verbindlich ist allein die ausgefertigte Planurkunde.'], themes: ['REGI'], amt: 'Stadtplanung', tags: ['bauleitplanung', 'bebauungsplan', 'xplanung', 'stadtplanung', 'geodaten'], formats: ['WMS_SRVC', 'WFS_SRVC', 'GML', 'PDF', 'ZIP'], frequency: 'MONTHLY', geo: true },
  { key: 'fnp', titles: ['Flächennutzungsplan {ort}'], desc: ['Der Flächennutzungsplan stellt die beabsichtigte Art der Bodennutzung für das gesamte Gebiet von {ort} in den Grundzügen dar.', 'Wirksame Änderungsverfahren sind eingearbeitet.'], themes: ['REGI'], amt: 'Stadtplanung', tags: ['flächennutzungsplan', 'bauleitplanung', 'stadtplanung', 'geodaten'], formats: ['WMS_SRVC', 'PDF', 'SHP'], frequency: 'IRREG', geo: true },
  { key: 'luftqualitaet', titles: ['Luftqualitätsmessungen {ort} {jahr}', 'Stickstoffdioxid (NO₂) und Feinstaub in {ort} – {jahr}'], desc: ['Messwerte der Luftschadstoffe Stickstoffdioxid (NO₂), Feinstaub (PM10, PM2,5) und Ozon an den Messstellen in {ort} als Stundenmittelwerte.', 'Überschreitungen der Grenzwerte nach der 39. BImSchV sind gekennzeichnet.'], themes: ['ENVI', 'HEAL'], amt: 'Umwelt und Klimaschutz', tags: ['luftqualität', 'umwelt', 'stickstoffdioxid', 'feinstaub', 'messwerte'], formats: ['CSV', 'JSON', 'XLSX'], frequency: 'DAILY', yearly: true },
  { key: 'laerm', titles: ['Lärmkartierung Straßenverkehr {jahr}'], desc: ['Strategische Lärmkarten nach der EU-Umgebungslärmrichtlinie für den Straßenverkehr in {ort} mit den Indizes Lden und Lnight.'], themes: ['ENVI'], amt: 'Umwelt und Klimaschutz', tags: ['lärm', 'lärmkartierung', 'umwelt', 'straßenverkehr'], formats: ['WMS_SRVC', 'SHP', 'PDF'], frequency: 'QUINQUENNIAL', yearly: true, years: [2017, 2022], geo: true },
  { key: 'radzaehlung', titles: ['Radverkehrszählstellen {ort} – Stundenwerte {jahr}', 'Fahrradzählung {ort} {jahr}'], desc: ['Stündliche Zählwerte der automatischen Raddauerzählstellen in {ort} für das Jahr {jahr}, getrennt nach Fahrtrichtung.', 'Ausfälle einzelner Zählstellen sind als fehlende Werte gekennzeichnet.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['radverkehr', 'fahrrad', 'zählstellen', 'mobilität', 'verkehr'], formats: ['CSV', 'JSON'], frequency: 'DAILY', yearly: true },
  { key: 'verkehrszaehlung', titles: ['Verkehrsmengen an Zählstellen {jahr}', 'Kfz-Verkehrszählung {ort} {jahr}'], desc: ['Durchschnittliche tägliche Verkehrsstärken (DTV) des Kraftfahrzeugverkehrs an den Zählstellen in {ort}, getrennt nach Pkw und Schwerverkehr.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['verkehr', 'verkehrszählung', 'kfz', 'straßenverkehr'], formats: ['CSV', 'XLSX', 'GEOJSON'], frequency: 'ANNUAL', yearly: true, geo: true },
  { key: 'baustellen', titles: ['Baustellen und Verkehrsbeeinträchtigungen in {ort}', 'Aktuelle Straßensperrungen {ort}'], desc: ['Tagesaktuelle Übersicht der Baustellen, Vollsperrungen und Umleitungen auf Straßen in {ort} mit Zeitraum und Lage.'], themes: ['TRAN'], amt: 'Tiefbau', tags: ['baustellen', 'straßensperrung', 'verkehr', 'umleitung'], formats: ['GEOJSON', 'JSON', 'CSV'], frequency: 'DAILY', realtime: true, geo: true },
  { key: 'ladesaeulen', titles: ['Ladesäulen für Elektrofahrzeuge in {ort}'], desc: ['Standorte der öffentlich zugänglichen Ladepunkte für Elektrofahrzeuge in {ort} mit Ladeleistung, Steckertyp und Betreiber.'], themes: ['TRAN', 'ENER'], amt: 'Umwelt und Klimaschutz', tags: ['elektromobilität', 'ladesäulen', 'energie', 'mobilität'], formats: ['CSV', 'GEOJSON', 'JSON'], frequency: 'MONTHLY', geo: true },
  { key: 'solarkataster', titles: ['Solarkataster {ort}', 'Solarpotenzial der Dachflächen in {ort}'], desc: ['Das Solarkataster zeigt für jede Dachfläche in {ort} die Eignung für Photovoltaik und Solarthermie.', 'Grundlage sind Laserscandaten der Hessischen Verwaltung für Bodenmanagement und Geoinformation.'], themes: ['ENER', 'ENVI'], amt: 'Umwelt und Klimaschutz', tags: ['solar', 'photovoltaik', 'energie', 'klimaschutz', 'dachflächen'], formats: ['WMS_SRVC', 'SHP', 'CSV'], frequency: 'NEVER', geo: true },
  { key: 'energieverbrauch', titles: ['Energieverbrauch städtischer Liegenschaften {jahr}'], desc: ['Strom-, Wärme- und Wasserverbrauch der kommunalen Gebäude in {ort} im Jahr {jahr}, witterungsbereinigt.'], themes: ['ENER'], amt: 'Gebäudemanagement', tags: ['energie', 'energieverbrauch', 'gebäude', 'klimaschutz'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true },
  { key: 'abfuhrkalender', titles: ['Abfuhrkalender {ort} {jahr}', 'Müllabfuhrtermine {jahr}'], desc: ['Abfuhrtermine für Restmüll, Bioabfall, Papier und Gelbe Säcke in allen Straßen von {ort} für das Jahr {jahr}.'], themes: ['ENVI'], amt: 'Abfallwirtschaft', tags: ['abfall', 'müllabfuhr', 'abfuhrkalender', 'entsorgung'], formats: ['ICS', 'CSV', 'PDF'], frequency: 'ANNUAL', yearly: true },
  { key: 'container', titles: ['Standorte der Altglas- und Altkleidercontainer'], desc: ['Standorte der Wertstoffcontainer für Altglas und Altkleider in {ort} mit Adresse und Koordinaten.'], themes: ['ENVI'], amt: 'Abfallwirtschaft', tags: ['abfall', 'altglas', 'container', 'recycling'], formats: ['CSV', 'GEOJSON'], frequency: 'IRREG', geo: true },
  { key: 'wertstoffhoefe', titles: ['Wertstoffhöfe und Schadstoffsammlung {ort}'], desc: ['Öffnungszeiten und Standorte der Wertstoffhöfe sowie Termine der mobilen Schadstoffsammlung in {ort}.'], themes: ['ENVI'], amt: 'Abfallwirtschaft', tags: ['abfall', 'wertstoffhof', 'schadstoffe', 'entsorgung'], formats: ['JSON', 'CSV', 'ICS'], frequency: 'ANNUAL', geo: true },
  { key: 'hunde', titles: ['Hundebestand nach {teile} {jahr}'], desc: ['Anzahl der zur Hundesteuer angemeldeten Hunde in {ort} zum Stichtag {jahr}, gegliedert nach {teile}.'], themes: ['ECON'], amt: 'Finanzen', tags: ['hunde', 'hundesteuer', 'steuern', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'friedhoefe', titles: ['Friedhöfe in {ort}'], desc: ['Lage, Größe und Öffnungszeiten der Friedhöfe in {ort} sowie die angebotenen Bestattungsarten.'], themes: ['SOCI'], amt: 'Grünflächen', tags: ['friedhöfe', 'bestattung', 'grünflächen'], formats: ['CSV', 'GEOJSON', 'PDF'], frequency: 'IRREG', geo: true },
  { key: 'denkmaeler', titles: ['Kulturdenkmäler in {ort}', 'Denkmaltopographie {ort}'], desc: ['Verzeichnis der Kulturdenkmäler nach dem Hessischen Denkmalschutzgesetz in {ort} mit Beschreibung, Baujahr und Lage.', 'Gesamtanlagen sind als Flächen enthalten.'], themes: ['EDUC'], amt: 'Kultur', tags: ['denkmalschutz', 'kulturdenkmäler', 'kultur', 'geschichte'], formats: ['CSV', 'GEOJSON', 'WMS_SRVC'], frequency: 'IRREG', geo: true },
  { key: 'bibliothek', titles: ['Ausleihstatistik der Stadtbibliothek {jahr}'], desc: ['Entleihungen, aktive Nutzerinnen und Nutzer sowie Bestand der Stadtbibliothek {ort} im Jahr {jahr}, nach Medienart.'], themes: ['EDUC'], amt: 'Kultur', tags: ['bibliothek', 'kultur', 'bildung', 'ausleihe', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'sportstaetten', titles: ['Sportstätten und Sporthallen in {ort}'], desc: ['Sportplätze, Sporthallen und Bäder in {ort} mit Ausstattung, Belegungszeiten und barrierefreiem Zugang.'], themes: ['EDUC', 'HEAL'], amt: 'Sport', tags: ['sport', 'sporthallen', 'sportplätze', 'freizeit'], formats: ['CSV', 'GEOJSON', 'JSON'], frequency: 'ANNUAL', geo: true },
  { key: 'baeder', titles: ['Besucherzahlen der Schwimmbäder {jahr}'], desc: ['Monatliche Besucherzahlen der Hallen- und Freibäder in {ort} im Jahr {jahr}.', 'Schul- und Vereinsschwimmen ist getrennt ausgewiesen.'], themes: ['EDUC', 'HEAL'], amt: 'Sport', tags: ['schwimmbad', 'freibad', 'sport', 'besucherzahlen'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'veranstaltungen', titles: ['Veranstaltungskalender {ort}'], desc: ['Öffentliche Veranstaltungen in {ort} mit Titel, Ort, Beginn, Ende und Kategorie, täglich aus dem städtischen Veranstaltungsportal übernommen.'], themes: ['EDUC'], amt: 'Kultur', tags: ['veranstaltungen', 'kultur', 'freizeit', 'termine'], formats: ['JSON', 'ICS', 'XML'], frequency: 'DAILY', realtime: true },
  { key: 'sitzungen', titles: ['Sitzungstermine {gremium} {jahr}', 'Beschlüsse {gremium} {jahr}'], desc: ['Termine, Tagesordnungen und Beschlüsse der öffentlichen Sitzungen {gremium} und ihrer Ausschüsse im Jahr {jahr}.', 'Die Daten stammen aus dem Ratsinformationssystem.'], themes: ['GOVE'], amt: 'Gremienbüro', tags: ['politik', 'ratsinformation', 'sitzungen', 'beschlüsse', 'gremien'], formats: ['JSON', 'CSV', 'ICS', 'PDF'], frequency: 'WEEKLY', yearly: true },
  { key: 'stadtteilgrenzen', titles: ['Grenzen der {teile} in {ort}', 'Statistische Bezirke {ort}'], desc: ['Amtliche Grenzen der {teile} und statistischen Bezirke in {ort} als Polygone im Koordinatensystem ETRS89/UTM32.'], themes: ['REGI', 'GOVE'], amt: 'Vermessung und Geoinformation', tags: ['geodaten', 'grenzen', 'stadtteile', 'verwaltungsgrenzen'], formats: ['GEOJSON', 'SHP', 'WFS_SRVC', 'KML'], frequency: 'IRREG', geo: true },
  { key: 'strassenverzeichnis', titles: ['Straßenverzeichnis {ort}'], desc: ['Alle gewidmeten Straßen, Wege und Plätze in {ort} mit Straßenschlüssel, Zuordnung zu {teile} und Postleitzahl.'], themes: ['REGI'], amt: 'Vermessung und Geoinformation', tags: ['straßen', 'straßenverzeichnis', 'adressen', 'geodaten'], formats: ['CSV', 'XLSX', 'JSON'], frequency: 'MONTHLY' },
  { key: 'adressen', titles: ['Gebäudeadressen und Hauskoordinaten {ort}'], desc: ['Hauskoordinaten aller amtlichen Gebäudeadressen in {ort}, abgeleitet aus dem Liegenschaftskataster (ALKIS).'], themes: ['REGI'], amt: 'Vermessung und Geoinformation', tags: ['adressen', 'hauskoordinaten', 'alkis', 'geodaten'], formats: ['CSV', 'GEOJSON', 'ZIP'], frequency: 'QUARTERLY', geo: true },
  { key: 'pegel', titles: ['Pegelstände an Gewässern in {ort} (Echtzeit)'], desc: ['Aktuelle Wasserstände und Abflüsse an den Pegelmessstellen im Gebiet von {ort}, alle 15 Minuten aktualisiert.', 'Hochwassermeldestufen sind je Pegel angegeben.'], themes: ['ENVI'], amt: 'Umwelt und Klimaschutz', tags: ['hochwasser', 'pegel', 'gewässer', 'echtzeit', 'umwelt'], formats: ['JSON', 'CSV', 'XML'], frequency: 'CONT', realtime: true, geo: true },
  { key: 'wetter', titles: ['Wetterstation {ort} – Messwerte {jahr}'], desc: ['Zehnminütige Messwerte der städtischen Wetterstation {ort}: Lufttemperatur, Niederschlag, Luftfeuchte, Windgeschwindigkeit und Globalstrahlung.'], themes: ['ENVI'], amt: 'Umwelt und Klimaschutz', tags: ['wetter', 'klima', 'temperatur', 'niederschlag', 'messwerte'], formats: ['CSV', 'JSON'], frequency: 'DAILY', yearly: true },
  { key: 'wlan', titles: ['Öffentliche WLAN-Hotspots in {ort}'], desc: ['Standorte des kostenfreien öffentlichen WLAN in {ort} mit Betreiber und Zahl der Zugangspunkte.'], themes: ['TECH'], amt: 'Digitalisierung', tags: ['wlan', 'internet', 'digitalisierung', 'hotspots'], formats: ['CSV', 'GEOJSON'], frequency: 'IRREG', geo: true },
  { key: 'breitband', titles: ['Breitbandversorgung nach {teile} {jahr}'], desc: ['Anteil der Haushalte in {ort} mit verfügbaren Bandbreiten von mindestens 100 Mbit/s und 1 Gbit/s, gegliedert nach {teile}.'], themes: ['TECH', 'REGI'], amt: 'Digitalisierung', tags: ['breitband', 'glasfaser', 'digitalisierung', 'internet'], formats: ['CSV', 'XLSX', 'WMS_SRVC'], frequency: 'ANNUAL', yearly: true },
  { key: 'zustaendigkeiten', titles: ['Zuständigkeitsfinder der {verwaltung} {ort}'], desc: ['Leistungen der {verwaltung} {ort} mit zuständiger Stelle, Ansprechpersonen, Öffnungszeiten und Online-Dienst nach dem Onlinezugangsgesetz.'], themes: ['GOVE'], amt: 'Bürgerservice', tags: ['verwaltung', 'zuständigkeiten', 'bürgerservice', 'ozg'], formats: ['JSON', 'XML', 'CSV'], frequency: 'WEEKLY' },
  { key: 'zuschuesse', titles: ['Vereinsförderung und Zuschüsse {jahr}'], desc: ['Freiwillige Zuschüsse der {verwaltung} {ort} an Vereine, Verbände und Initiativen im Jahr {jahr} nach Empfänger und Förderbereich.'], themes: ['ECON', 'GOVE'], amt: 'Finanzen', tags: ['förderung', 'zuschüsse', 'vereine', 'finanzen', 'transparenz'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true },
  { key: 'arbeitsmarkt', titles: ['Arbeitsmarkt {ort} {jahr}'], desc: ['Sozialversicherungspflichtig Beschäftigte am Arbeits- und Wohnort sowie Arbeitslose in {ort} im Jahr {jahr}.', 'Quelle sind Auswertungen der Bundesagentur für Arbeit.'], themes: ['ECON', 'SOCI'], amt: 'Wirtschaftsförderung', tags: ['arbeitsmarkt', 'beschäftigung', 'arbeitslosigkeit', 'wirtschaft', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'tourismus', titles: ['Übernachtungen und Gästeankünfte {jahr}'], desc: ['Gästeankünfte und Übernachtungen in Beherbergungsbetrieben mit zehn und mehr Betten in {ort} im Jahr {jahr}, nach Herkunftsländern.'], themes: ['ECON', 'INTR'], amt: 'Wirtschaftsförderung', tags: ['tourismus', 'übernachtungen', 'gäste', 'wirtschaft'], formats: ['CSV', 'XLSX'], frequency: 'MONTHLY', yearly: true, stats: true },
  { key: 'ordnungswidrigkeiten', titles: ['Verwarnungen im ruhenden Verkehr {jahr}'], desc: ['Anzahl der Verwarnungen und Bußgeldverfahren wegen Parkverstößen in {ort} im Jahr {jahr}, nach Tatbestand und Monat.'], themes: ['JUST', 'TRAN'], amt: 'Ordnung', tags: ['ordnungswidrigkeiten', 'parken', 'verkehrsüberwachung', 'bußgeld'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'feuerwehr', titles: ['Einsätze der Feuerwehr {ort} {jahr}'], desc: ['Einsatzstatistik der Berufs- und Freiwilligen Feuerwehr {ort} im Jahr {jahr}: Brände, technische Hilfeleistungen und Fehlalarme.'], themes: ['JUST', 'HEAL'], amt: 'Brandschutz', tags: ['feuerwehr', 'einsätze', 'brandschutz', 'sicherheit'], formats: ['CSV', 'PDF'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'defibrillatoren', titles: ['Öffentlich zugängliche Defibrillatoren (AED) in {ort}'], desc: ['Standorte der öffentlich zugänglichen automatisierten externen Defibrillatoren in {ort} mit Zugangszeiten.'], themes: ['HEAL'], amt: 'Brandschutz', tags: ['gesundheit', 'defibrillator', 'aed', 'notfall'], formats: ['GEOJSON', 'CSV', 'JSON'], frequency: 'MONTHLY', geo: true },
  { key: 'apotheken', titles: ['Apotheken in {ort}', 'Notdienstapotheken {ort}'], desc: ['Verzeichnis der Apotheken in {ort} mit Anschrift, Öffnungszeiten und Notdienstplan.'], themes: ['HEAL'], amt: 'Gesundheit', tags: ['gesundheit', 'apotheken', 'notdienst'], formats: ['CSV', 'GEOJSON'], frequency: 'MONTHLY', geo: true },
  { key: 'trinkwasser', titles: ['Trinkwasseranalysen {jahr}'], desc: ['Ergebnisse der Trinkwasseruntersuchungen nach der Trinkwasserverordnung für die Versorgungszonen in {ort} im Jahr {jahr}.', 'Angegeben sind Härtegrad, Nitratgehalt und mikrobiologische Parameter.'], themes: ['HEAL', 'ENVI'], amt: 'Gesundheit', tags: ['trinkwasser', 'wasserqualität', 'gesundheit', 'umwelt'], formats: ['CSV', 'PDF'], frequency: 'ANNUAL', yearly: true },
  { key: 'streuobst', titles: ['Streuobstwiesen und landwirtschaftliche Flächen {ort}'], desc: ['Lage und Größe der Streuobstwiesen und der landwirtschaftlich genutzten Flächen im Eigentum von {ort}.', 'Die Flächen werden überwiegend extensiv bewirtschaftet.'], themes: ['AGRI', 'ENVI'], amt: 'Umwelt und Klimaschutz', tags: ['landwirtschaft', 'streuobst', 'naturschutz', 'flächen'], formats: ['GEOJSON', 'SHP', 'CSV'], frequency: 'IRREG', geo: true },
  { key: 'stadtwald', titles: ['Waldflächen und Forsteinrichtung {ort}'], desc: ['Waldbestände im Kommunalwald von {ort} nach Baumarten, Altersklassen und Schutzfunktionen laut aktueller Forsteinrichtung.'], themes: ['AGRI', 'ENVI'], amt: 'Grünflächen', tags: ['wald', 'forst', 'forstwirtschaft', 'umwelt'], formats: ['SHP', 'WMS_SRVC', 'PDF'], frequency: 'DECENNIAL', geo: true },
  { key: 'wochenmaerkte', titles: ['Wochenmärkte in {ort}'], desc: ['Standorte, Markttage und Öffnungszeiten der Wochenmärkte in {ort} mit der Zahl der Marktstände.'], themes: ['AGRI', 'ECON'], amt: 'Ordnung', tags: ['wochenmarkt', 'lebensmittel', 'regional', 'handel'], formats: ['CSV', 'JSON', 'GEOJSON'], frequency: 'ANNUAL', geo: true },
  { key: 'partnerstaedte', titles: ['Partnerstädte und Städtepartnerschaften von {ort}'], desc: ['Liste der Partnerstädte und Partnerschaften von {ort} mit Land, Gründungsjahr und Ansprechpartnern.'], themes: ['INTR'], amt: 'Zentrale Dienste', tags: ['städtepartnerschaft', 'international', 'partnerstädte', 'europa'], formats: ['CSV', 'JSON'], frequency: 'IRREG' },
  { key: 'staatsangehoerigkeit', titles: ['Bevölkerung nach Staatsangehörigkeit {jahr}'], desc: ['Einwohnerinnen und Einwohner in {ort} am 31.12.{jahr} nach Staatsangehörigkeit und Geschlecht.'], themes: ['SOCI', 'INTR'], amt: 'Statistik und Wahlen', tags: ['bevölkerung', 'staatsangehörigkeit', 'migration', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'sozialleistungen', titles: ['Empfängerinnen und Empfänger von Sozialleistungen {jahr}'], desc: ['Leistungsberechtigte nach SGB II und SGB XII sowie Wohngeldhaushalte in {ort} im Jahr {jahr}.'], themes: ['SOCI'], amt: 'Soziales', tags: ['soziales', 'sozialleistungen', 'wohngeld', 'grundsicherung', 'statistik'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'baugenehmigungen', titles: ['Baugenehmigungen und Baufertigstellungen {jahr}'], desc: ['Genehmigte und fertiggestellte Wohngebäude und Wohnungen in {ort} im Jahr {jahr}, nach Gebäudeart und {teile}.'], themes: ['REGI', 'ECON'], amt: 'Bauaufsicht', tags: ['bauen', 'wohnungsbau', 'baugenehmigungen', 'statistik'], formats: ['CSV', 'XLSX'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'mietspiegel', titles: ['Mietspiegel {ort} {jahr}'], desc: ['Der qualifizierte Mietspiegel {jahr} gibt die ortsübliche Vergleichsmiete für nicht preisgebundenen Wohnraum in {ort} an.', 'Zu- und Abschläge für Ausstattungsmerkmale sind tabellarisch enthalten.'], themes: ['REGI', 'ECON'], amt: 'Soziales', tags: ['wohnen', 'mietspiegel', 'mieten', 'wohnungsmarkt'], formats: ['PDF', 'CSV', 'XLSX'], frequency: 'BIENNIAL', yearly: true },
  { key: 'orthophotos', titles: ['Digitale Orthophotos {ort} {jahr}', 'Luftbilder {ort} {jahr}'], desc: ['Entzerrte Luftbilder (Orthophotos) des Gebiets von {ort} mit einer Bodenauflösung von 10 cm aus der Befliegung {jahr}.'], themes: ['REGI'], amt: 'Vermessung und Geoinformation', tags: ['luftbilder', 'orthophotos', 'geodaten', 'karten'], formats: ['WMS_SRVC', 'GEOTIFF', 'ZIP'], frequency: 'BIENNIAL', yearly: true, geo: true },
  { key: 'strassenbeleuchtung', titles: ['Straßenbeleuchtung – Leuchtenstandorte {ort}'], desc: ['Standorte der Straßenleuchten in {ort} mit Leuchtmittel, Leistung und Schaltzeiten; die Umrüstung auf LED ist vermerkt.'], themes: ['ENER', 'TRAN'], amt: 'Tiefbau', tags: ['straßenbeleuchtung', 'led', 'energie', 'infrastruktur'], formats: ['CSV', 'GEOJSON', 'WFS_SRVC'], frequency: 'QUARTERLY', geo: true },
  { key: 'toiletten', titles: ['Öffentliche Toiletten in {ort}'], desc: ['Standorte öffentlicher und barrierefreier Toiletten in {ort}, einschließlich der Partner der Aktion „Nette Toilette“.'], themes: ['SOCI', 'HEAL'], amt: 'Tiefbau', tags: ['toiletten', 'barrierefreiheit', 'infrastruktur'], formats: ['GEOJSON', 'CSV', 'JSON'], frequency: 'IRREG', geo: true },
  { key: 'maengelmelder', titles: ['Meldungen aus dem Mängelmelder {jahr}'], desc: ['Über den Mängelmelder eingegangene Hinweise zu Schlaglöchern, wildem Müll oder defekten Straßenlaternen in {ort} mit Kategorie, Bearbeitungsstatus und Lage.'], themes: ['GOVE'], amt: 'Bürgerservice', tags: ['mängelmelder', 'bürgerbeteiligung', 'anliegen', 'verwaltung'], formats: ['CSV', 'JSON', 'GEOJSON'], frequency: 'DAILY', yearly: true, geo: true },
  { key: 'personal', titles: ['Personalstatistik der {verwaltung} {ort} {jahr}'], desc: ['Beschäftigte der {verwaltung} {ort} am 30.06.{jahr} nach Laufbahngruppe, Beschäftigungsumfang und Geschlecht.'], themes: ['GOVE'], amt: 'Zentrale Dienste', tags: ['personal', 'verwaltung', 'beschäftigte', 'statistik'], formats: ['CSV', 'XLSX', 'PDF'], frequency: 'ANNUAL', yearly: true, stats: true },
  { key: 'fahrradparken', titles: ['Fahrradabstellanlagen und Bike+Ride in {ort}'], desc: ['Öffentliche Fahrradabstellanlagen und Bike+Ride-Plätze in {ort} mit Zahl der Stellplätze und Überdachung.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['radverkehr', 'fahrradparken', 'mobilität', 'fahrrad'], formats: ['GEOJSON', 'CSV'], frequency: 'ANNUAL', geo: true },
  { key: 'carsharing', titles: ['Carsharing-Stationen in {ort}'], desc: ['Standorte der stationsbasierten Carsharing-Angebote in {ort} mit Anbieter und Zahl der Fahrzeuge.'], themes: ['TRAN'], amt: 'Verkehr', tags: ['carsharing', 'mobilität', 'verkehr', 'auto'], formats: ['CSV', 'GEOJSON', 'JSON'], frequency: 'MONTHLY', geo: true },
  { key: 'gewaesser', titles: ['Gewässerstrukturgüte der Fließgewässer {ort}'], desc: ['Bewertung der Gewässerstruktur der Bäche und Flüsse im Gebiet von {ort} nach dem LAWA-Verfahren in sieben Güteklassen.'], themes: ['ENVI'], amt: 'Umwelt und Klimaschutz', tags: ['gewässer', 'naturschutz', 'wasserrahmenrichtlinie', 'umwelt'], formats: ['SHP', 'WMS_SRVC', 'PDF'], frequency: 'IRREG', geo: true },
]

const GENERIC_SENTENCES = {
  update: 'Die Daten stammen aus den Fachverfahren der {verwaltung} {ort} und werden {rhythmus} aktualisiert.',
  never: 'Der Datensatz ist abgeschlossen und wird nicht fortgeschrieben.',
  geo: 'Die Koordinaten liegen im Bezugssystem ETRS89/UTM32 (EPSG:25832) vor; die GeoJSON-Dateien verwenden WGS 84.',
  stats: 'Aus Gründen des Datenschutzes werden Fallzahlen kleiner als drei nicht ausgewiesen.',
  realtime: 'Die Schnittstelle ist öffentlich und ohne Anmeldung nutzbar; bitte fragen Sie höchstens einmal pro Minute ab.',
  other: [
    'Bitte beachten Sie die Hinweise zur Nutzung in der beigefügten Datensatzbeschreibung.',
    'Für Rückfragen steht das Open-Data-Team der {verwaltung} gern zur Verfügung.',
    'Änderungen gegenüber früheren Veröffentlichungen sind in der Spalte „Stand“ gekennzeichnet.',
    'Die Veröffentlichung erfolgt im Rahmen der Open-Data-Strategie von {ort}.',
    'Für die Vollständigkeit und Richtigkeit der Angaben wird keine Gewähr übernommen.',
    'Größere Abweichungen zum Vorjahr können auf Umstellungen im Fachverfahren zurückzuführen sein.',
  ],
}

const RHYTHM: Record<string, string> = {
  CONT: 'laufend', UPDATE_CONT: 'laufend', HOURLY: 'stündlich', DAILY: 'täglich', WEEKLY: 'wöchentlich',
  MONTHLY: 'monatlich', QUARTERLY: 'vierteljährlich', ANNUAL: 'jährlich', BIENNIAL: 'alle zwei Jahre',
  QUADRENNIAL: 'alle vier Jahre', QUINQUENNIAL: 'nach jeder Wahl', DECENNIAL: 'alle zehn Jahre', IRREG: 'bei Bedarf',
}

/** Ämter are named after the Kommune's style. */
const AMT_STYLES = ['Fachdienst {x}', 'Amt für {x}', 'Fachbereich {x}', 'Abteilung {x}']

const LICENSES: ReadonlyArray<readonly [string, number]> = [
  ['http://dcat-ap.de/def/licenses/dl-by-de/2.0', 42],
  ['http://dcat-ap.de/def/licenses/dl-zero-de/2.0', 26],
  ['http://dcat-ap.de/def/licenses/cc-by/4.0', 16],
  ['http://dcat-ap.de/def/licenses/cc-zero', 4],
  ['http://dcat-ap.de/def/licenses/cc-by-sa/4.0', 3],
  ['http://dcat-ap.de/def/licenses/odbl', 2],
  ['http://dcat-ap.de/def/licenses/geonutz/20130319', 2],
  ['http://dcat-ap.de/def/licenses/officialWork', 2],
  ['http://dcat-ap.de/def/licenses/other-open', 2],
  ['http://dcat-ap.de/def/licenses/cc-by-nc/4.0', 1],
]

const RESOURCE_COUNTS: ReadonlyArray<readonly [number, number]> = [
  [1, 20], [2, 25], [3, 20], [4, 13], [5, 9], [6, 6], [7, 4], [8, 3],
]

const EXTENSIONS: Record<string, string> = {
  CSV: 'csv', JSON: 'json', GEOJSON: 'geojson', XLSX: 'xlsx', PDF: 'pdf', XML: 'xml', ZIP: 'zip', SHP: 'zip',
  KML: 'kml', GTFS: 'zip', ICS: 'ics', GML: 'gml', GEOTIFF: 'tif', ODS: 'ods', TXT: 'txt',
}

/** Typical size ranges (bytes, log-uniform) per format. */
const SIZES: Record<string, [number, number]> = {
  CSV: [2e3, 2e7], JSON: [2e3, 1e7], GEOJSON: [1e4, 5e7], XLSX: [1e4, 5e6], PDF: [5e4, 8e6], XML: [5e3, 1e7],
  ZIP: [1e5, 2e8], SHP: [1e5, 1e8], KML: [1e4, 2e7], GTFS: [5e5, 5e7], ICS: [2e3, 2e5], GML: [1e5, 2e8],
  GEOTIFF: [5e7, 2e9], ODS: [1e4, 5e6], TXT: [1e3, 1e6],
}

const FORMAT_NOUN: Record<string, string> = {
  CSV: 'Tabelle', JSON: 'JSON-Datei', GEOJSON: 'GeoJSON', XLSX: 'Excel-Tabelle', PDF: 'Dokument', XML: 'XML-Datei',
  ZIP: 'Download-Paket', SHP: 'Shapefile', KML: 'KML-Datei', GTFS: 'GTFS-Feed', ICS: 'Kalenderdatei', GML: 'XPlanGML',
  GEOTIFF: 'GeoTIFF', WMS_SRVC: 'WMS-Dienst', WFS_SRVC: 'WFS-Dienst', ODS: 'OpenDocument-Tabelle', TXT: 'Textdatei',
}

// ---------------------------------------------------------------------------------------------------------
// Context computed once per generator.

interface OrgContext {
  org: SyntheticOrganization
  place: string
  placeSlug: string
  domain: string
  homepage: string
  email: string
  geocodingUri: string | null
  geocodingLevelUri: string | null
  isDistrict: boolean
  amtStyle: string
}

interface FormatInfo {
  code: string
  mediaType: string | null
  service: boolean
}

interface Context {
  seed: number
  seedTag: string
  seedPrefix: string
  orgs: OrgContext[]
  themeIds: Map<string, string>
  licenses: Array<readonly [{ uri: string; attribution: boolean }, number]>
  formats: Map<string, FormatInfo>
  frequencyUri: (code: string) => string
  languageUri: string
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.replace(/^www\./, '')
  } catch {
    return null
  }
}

function buildContext(opts: GenerateOptions): Context {
  const { seed, vocab } = opts
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`)
  if (opts.organizations.length === 0) throw new Error('generateDatasets needs at least one organization')
  const kommunen = new Map(vocab.kommunen.flatMap((k) => [[k.id, k] as const, [k.name, k] as const]))
  const orgs = [...opts.organizations]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((org): OrgContext => {
      const kommune = kommunen.get(org.id) ?? kommunen.get(org.name)
      const homepage = org.homepage || kommune?.homepage || `https://www.${org.name}.de`
      const domain = hostOf(homepage) ?? `${org.name}.de`
      const place = placeName(org.title || kommune?.title || org.name)
      const levelUri = org.political_geocoding_level_uri ?? kommune?.political_geocoding_level_uri ?? null
      const regionalKey = org.regional_key ?? kommune?.regional_key
      return {
        org,
        place,
        placeSlug: slugify(place),
        domain,
        homepage: homepage.replace(/\/+$/, ''),
        email: org.email || kommune?.email || `opendata@${domain}`,
        geocodingUri:
          org.political_geocoding_uri ??
          kommune?.political_geocoding_uri ??
          (regionalKey ? `http://dcat-ap.de/def/politicalGeocoding/regionalKey/${regionalKey}` : null),
        geocodingLevelUri: levelUri,
        isDistrict: /administrativeDistrict|district/i.test(levelUri ?? '') || /kreis$/i.test(org.name),
        amtStyle: AMT_STYLES[digest(`amt-style/${org.name}`)[0]! % AMT_STYLES.length]!,
      }
    })
  const licenses = LICENSES.flatMap(([uri, weight]) => {
    const license = vocab.licenses.byUriExact(uri)
    return license ? [[{ uri, attribution: license.requires_attribution }, weight] as const] : []
  })
  if (licenses.length === 0) {
    const open = vocab.licenses.all.filter((l) => l.status === 'active' && l.is_open)
    for (const l of open.length ? open : vocab.licenses.all) licenses.push([{ uri: l.uri, attribution: l.requires_attribution }, 1])
  }
  const formats = new Map<string, FormatInfo>()
  for (const code of new Set(TOPICS.flatMap((t) => [...t.formats, 'PDF']))) {
    const ft = vocab.fileTypes.find(code)
    if (ft) formats.set(code, { code: ft.code, mediaType: ft.media_type, service: /_SRVC$/.test(ft.code) })
  }
  return {
    seed,
    seedTag: seed.toString(36),
    seedPrefix: seedPrefixOf(seed),
    orgs,
    themeIds: opts.themeIds,
    licenses,
    formats,
    frequencyUri: (code) => vocab.frequencies.find(code)?.uri ?? `http://publications.europa.eu/resource/authority/frequency/${code}`,
    languageUri: vocab.languages.find('DEU')?.uri ?? 'http://publications.europa.eu/resource/authority/language/DEU',
  }
}

// ---------------------------------------------------------------------------------------------------------
// One dataset.

function hex(rng: Rng, length: number): string {
  let out = ''
  while (out.length < length) out += Math.floor(rng() * 4294967296).toString(16).padStart(8, '0')
  return out.slice(0, length)
}

function logUniform(rng: Rng, [min, max]: [number, number]): number {
  return Math.round(Math.exp(Math.log(min) + rng() * (Math.log(max) - Math.log(min))))
}

function datasetAt(ctx: Context, index: number): PackageInput {
  const hash = datasetDigest(ctx.seed, index)
  const rng = sfc32(hash.readUInt32LE(0), hash.readUInt32LE(4), hash.readUInt32LE(8), hash.readUInt32LE(12))
  for (let i = 0; i < 12; i++) rng()
  const id = orderedUuid(ctx.seedPrefix, index, 0, hash.toString('hex', 16, 21).slice(0, 9))

  const topic = pick(rng, TOPICS)
  const oc = pick(rng, ctx.orgs)
  const year = topic.years ? pick(rng, topic.years) : pick(rng, ALL_YEARS)
  const vars: Record<string, string> = {
    ort: oc.place,
    jahr: String(year),
    jahr2: String((year + 1) % 100).padStart(2, '0'),
    gremium: oc.isDistrict ? 'des Kreistags' : 'der Stadtverordnetenversammlung',
    teile: oc.isDistrict ? 'Städten und Gemeinden' : 'Stadtteilen',
    verwaltung: oc.isDistrict ? 'Kreisverwaltung' : 'Stadtverwaltung',
    rhythmus: RHYTHM[topic.frequency] ?? 'regelmäßig',
  }
  let titleTemplate = pick(rng, topic.titles)
  if (!titleTemplate.includes('{ort}') && chance(rng, 0.5)) titleTemplate += ' – {ort}'
  const title = fill(titleTemplate, vars, oc.isDistrict)

  // name: <slug of the title without the place>-<kommune>-<seed36>-<index36>, at most 100 characters.
  const suffix = `-${oc.org.name}-${ctx.seedTag}-${index.toString(36)}`
  let base = slugify(title)
  if (oc.placeSlug) base = base.split(oc.placeSlug).join('-').replace(/-+/g, '-').replace(/^-|-$/g, '')
  if (!base) base = topic.key
  base = base.slice(0, Math.max(1, 100 - suffix.length)).replace(/-+$/, '')
  const name = `${base}${suffix}`.slice(0, 100)

  // Dates: issued in 2015..2025, modified >= issued, realtime data touched recently.
  const yearStart = Date.UTC(year, 0, 1)
  const issuedMs = clampDate(
    topic.yearly || topic.years ? yearStart + int(rng, 0, 540) * DAY : RANGE_START + Math.floor(rng() * (RANGE_END - RANGE_START - 200 * DAY)),
  )
  const modifiedMs = topic.realtime
    ? Math.max(issuedMs, RANGE_END - int(rng, 0, 30) * DAY)
    : issuedMs + Math.floor(Math.pow(rng(), 2) * (RANGE_END - issuedMs))
  const timeOfDay = int(rng, 6 * 3600, 19 * 3600) * 1000
  const withTime = chance(rng, 0.3)
  const fmtDate = (ms: number) => (withTime ? isoDateTime(ms + timeOfDay) : isoDate(ms))

  // Description: 2-4 sentences.
  const sentences = topic.desc.slice(0, chance(rng, 0.6) ? 2 : 1).map((s) => fill(s, vars, oc.isDistrict))
  const extra: string[] = [topic.frequency === 'NEVER' ? GENERIC_SENTENCES.never : GENERIC_SENTENCES.update]
  if (topic.geo) extra.push(GENERIC_SENTENCES.geo)
  if (topic.stats) extra.push(GENERIC_SENTENCES.stats)
  if (topic.realtime) extra.push(GENERIC_SENTENCES.realtime)
  extra.push(...sample(rng, GENERIC_SENTENCES.other, 2))
  const wanted = int(rng, 2, 4)
  for (const s of sample(rng, extra, Math.max(0, wanted - sentences.length))) sentences.push(fill(s, vars, oc.isDistrict))
  const notes = sentences.join(' ')

  // Keywords: 3-8 lower-case tags.
  const tagCount = int(rng, 3, 8)
  const tagPool = sample(rng, topic.tags, topic.tags.length)
  const tags = tagPool.slice(0, Math.min(tagPool.length, tagCount - 1))
  tags.push(oc.place.toLowerCase())
  if (tags.length < tagCount && (topic.yearly || topic.years)) tags.push(String(year))
  if (tags.length < tagCount) tags.push('open data')
  const uniqueTags = [...new Set(tags)].slice(0, 8)

  // Themes: the topic's first, often the second.
  const themeCodes = topic.themes.length > 1 && chance(rng, 0.65) ? topic.themes.slice(0, 2) : topic.themes.slice(0, 1)
  const themeIds = themeCodes.map((c) => ctx.themeIds.get(c)).filter((v): v is string => Boolean(v))

  const license = weighted(rng, ctx.licenses)
  const amt = oc.amtStyle.replace('{x}', topic.amt)
  const amtMail = `${slugify(topic.amt).split('-')[0]}@${oc.domain}`
  const attribution = oc.org.title || oc.place
  const landing = `${oc.homepage}/opendata/${base}`
  const opendata = `https://opendata.${oc.domain}`

  // Resources.
  const formats = topic.formats.map((f) => ctx.formats.get(f)).filter((f): f is FormatInfo => Boolean(f))
  const pdf = ctx.formats.get('PDF')
  if (pdf && !formats.includes(pdf)) formats.push(pdf)
  if (formats.length === 0) formats.push({ code: 'CSV', mediaType: 'text/csv', service: false })
  const resourceCount = Math.min(15, weighted(rng, RESOURCE_COUNTS))
  const resources: ResourceInput[] = []
  const topicLabel = title.replace(/\s*\(Echtzeit\)$/, '')
  for (let position = 0; position < resourceCount; position++) {
    const fmt = formats[position % formats.length]!
    const edition = Math.floor(position / formats.length)
    const resYear = year - edition
    const isDescription = fmt.code === 'PDF' && !topic.formats.includes('PDF')
    const resName = fmt.service
      ? `${FORMAT_NOUN[fmt.code] ?? fmt.code} ${topicLabel}`
      : isDescription
        ? edition ? `Datensatzbeschreibung (Fassung ${edition + 1})` : 'Datensatzbeschreibung'
        : `${topicLabel}${edition && (topic.yearly || topic.years) ? ` – Vorjahr ${resYear}` : edition ? ` (Teil ${edition + 1})` : ''} (${FORMAT_NOUN[fmt.code] ?? fmt.code})`
    const fileBase = `${base}${edition ? `-${edition + 1}` : ''}`
    let url: string
    let download: string | undefined
    let access: string
    if (fmt.service) {
      const kind = fmt.code.startsWith('WMS') ? 'WMS' : fmt.code.startsWith('WFS') ? 'WFS' : 'WCS'
      url = `https://geoportal.${oc.domain}/ows/${topic.key}?SERVICE=${kind}&REQUEST=GetCapabilities`
      access = url
    } else if (topic.realtime && position === 0) {
      url = `https://api.${oc.domain}/opendata/v1/${topic.key}.${EXTENSIONS[fmt.code] ?? 'json'}`
      access = url
      download = url
    } else {
      url = `${opendata}/dataset/${name}/${fileBase}.${EXTENSIONS[fmt.code] ?? fmt.code.toLowerCase()}`
      access = landing
      download = url
    }
    const resIssuedMs = issuedMs + Math.floor(rng() * Math.max(0, modifiedMs - issuedMs) * 0.3)
    const resModifiedMs = resIssuedMs + Math.floor(rng() * (modifiedMs - resIssuedMs))
    const size = fmt.service || (topic.realtime && position === 0) ? null : logUniform(rng, SIZES[fmt.code] ?? [1e4, 1e7])
    const resource: ResourceInput = {
      id: orderedUuid(ctx.seedPrefix, index, position + 1, hex(rng, 9)),
      url,
      name: resName,
      description: fmt.service
        ? `Geodienst (${fmt.code.replace('_SRVC', '')}) zum Datensatz „${topicLabel}“ aus dem Geoportal von ${oc.place}.`
        : isDescription
          ? `Beschreibung der Datenfelder, Erhebungsmethode und Qualitätshinweise zu „${topicLabel}“.`
          : `${FORMAT_NOUN[fmt.code] ?? fmt.code} mit den Daten${topic.yearly || topic.years ? ` für ${resYear}` : ''}; Stand ${isoDate(resModifiedMs)}.`,
      format: fmt.code,
      license: license.uri,
      issued: isoDate(resIssuedMs),
      modified: isoDate(resModifiedMs),
      access_url: access,
    }
    if (fmt.mediaType) resource.mimetype = fmt.code === 'SHP' || fmt.code === 'GTFS' ? 'application/zip' : fmt.mediaType
    else if (fmt.code === 'SHP' || fmt.code === 'GTFS') resource.mimetype = 'application/zip'
    if (size !== null) resource.size = size
    if (download) resource.download_url = download
    if (license.attribution) resource.licenseAttributionByText = attribution
    if (size !== null && chance(rng, 0.4)) {
      resource.hash = hex(rng, 64)
      resource.hash_algorithm = 'http://spdx.org/rdf/terms#checksumAlgorithm_sha256'
    }
    resources.push(resource)
  }

  // Extras: strings; lists as JSON text.
  const extras: Array<{ key: string; value: string }> = [
    { key: 'issued', value: fmtDate(issuedMs) },
    { key: 'modified', value: fmtDate(modifiedMs) },
    { key: 'identifier', value: `${opendata}/id/${name}` },
    { key: 'frequency', value: ctx.frequencyUri(topic.frequency) },
    { key: 'language', value: JSON.stringify([ctx.languageUri]) },
  ]
  if (topic.yearly || topic.years) {
    extras.push(
      { key: 'temporal_start', value: `${year}-01-01` },
      { key: 'temporal_end', value: isoDate(Math.min(Date.UTC(year, 11, 31), RANGE_END)) },
    )
  } else {
    extras.push({ key: 'temporal_start', value: isoDate(issuedMs - int(rng, 0, 3 * 365) * DAY) })
    if (!topic.realtime && chance(rng, 0.5)) extras.push({ key: 'temporal_end', value: isoDate(modifiedMs) })
  }
  if (oc.geocodingUri) {
    extras.push(
      { key: 'spatial_uri', value: oc.geocodingUri },
      { key: 'spatial_text', value: oc.org.title || oc.place },
      { key: 'politicalGeocodingURI', value: JSON.stringify([oc.geocodingUri]) },
    )
  }
  if (oc.geocodingLevelUri) extras.push({ key: 'politicalGeocodingLevelURI', value: oc.geocodingLevelUri })
  extras.push(
    { key: 'contact_name', value: amt },
    { key: 'contact_email', value: amtMail },
    { key: 'contact_url', value: `${oc.homepage}/kontakt` },
  )
  if (chance(rng, 0.3)) extras.push({ key: 'contact_tel', value: `+49 ${int(rng, 600, 699)} ${int(rng, 1000, 99999)}-${int(rng, 0, 999)}` })
  if (topic.geo && chance(rng, 0.3)) extras.push({ key: 'geocodingText', value: JSON.stringify([`Gebiet ${oc.org.title || oc.place}`]) })

  const state = chance(rng, 0.01) ? 'deleted' : 'active'
  const isPrivate = state === 'active' && chance(rng, 0.03)

  const dataset: PackageInput = {
    id,
    name,
    title,
    notes,
    url: landing,
    author: amt,
    maintainer: `Open-Data-Team ${oc.org.title || oc.place}`,
    maintainer_email: oc.email,
    license_id: license.uri,
    owner_org: oc.org.id,
    private: isPrivate,
    state,
    type: 'dataset',
    tags: uniqueTags.map((tag) => ({ name: tag })),
    themeIds,
    extras,
    resources,
  }
  if (chance(rng, 0.5)) dataset.author_email = amtMail
  if (chance(rng, 0.2)) dataset.version = chance(rng, 0.5) ? `${int(rng, 1, 3)}.${int(rng, 0, 9)}` : `${year}-${int(rng, 1, 4)}`
  return dataset
}

/** The datasets startIndex .. startIndex+count-1 of `seed`, lazily. */
export function* generateDatasets(opts: GenerateOptions): Iterable<PackageInput> {
  const ctx = buildContext(opts)
  const start = opts.startIndex ?? 0
  if (!Number.isSafeInteger(start) || start < 0) throw new RangeError(`startIndex must be a non-negative integer, got ${start}`)
  if (start + opts.count - 1 > MAX_INDEX) throw new RangeError(`dataset indexes are limited to ${MAX_INDEX}`)
  for (let index = start; index < start + opts.count; index++) yield datasetAt(ctx, index)
}

/** Topic keys, for tests and documentation. */
export const SYNTHETIC_TOPICS: readonly string[] = TOPICS.map((t) => t.key)
