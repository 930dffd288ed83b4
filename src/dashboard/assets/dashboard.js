/* global document, window, fetch, performance, URLSearchParams, echarts, setTimeout, location */
// Dashboard der Kommunen. Everything shown comes from the public stats API; every text from the API goes into
// the page as text (textContent, SVG text through ECharts, tooltips as rich text): never as HTML.

const API = {
  // Ranked by the API: best mean score first, Kommunen without a score last, ties by name.
  kommunen: '/api/stats/kommunen?sort=score_mean_portal%20desc',
  indicators: '/dashboard/assets/indicators.json',
  kommune: (name) => `/api/stats/kommunen/${encodeURIComponent(name)}`,
  datasets: (name, mode, offset) =>
    `/api/stats/kommunen/${encodeURIComponent(name)}/datasets?${new URLSearchParams({ mode, offset: String(offset), limit: String(PAGE) })}`,
  history: '/api/stats/history',
  usage: '/api/stats/usage?days=30',
}

// Series colours with at least 3:1 contrast against white (WCAG 1.4.11), distinguishable without colour too
// (the tables beside each chart carry the same numbers).
const COLORS = ['#0b57a4', '#b34700', '#1b7a3a', '#8e3b8e', '#a50e0e', '#4d4d4d', '#00727a', '#7a5c00']
const MAX_SCORE = 405
/** Datasets per page of the drill-down. */
const PAGE = 10
/** The score modes of the stats API: as the EU portal scores (the best distribution counts), or proportional. */
const MODES = {
  portal: { field: 'score_mean_portal', label: 'wie data.europa.eu' },
  proportional: { field: 'score_mean_proportional', label: 'anteilig' },
}
/** The EU data themes (http://publications.europa.eu/resource/authority/data-theme) in German. */
const THEMES = {
  AGRI: 'Landwirtschaft, Fischerei, Forstwirtschaft und Nahrungsmittel',
  ECON: 'Wirtschaft und Finanzen',
  EDUC: 'Bildung, Kultur und Sport',
  ENER: 'Energie',
  ENVI: 'Umwelt',
  GOVE: 'Regierung und öffentlicher Sektor',
  HEAL: 'Gesundheit',
  INTR: 'Internationale Themen',
  JUST: 'Justiz, Rechtssystem und öffentliche Sicherheit',
  OP_DATPRO: 'Vorläufige Daten',
  REGI: 'Regionen und Städte',
  SOCI: 'Bevölkerung und Gesellschaft',
  TECH: 'Wissenschaft und Technologie',
  TRAN: 'Verkehr',
}

const number = new Intl.NumberFormat('de-DE', { maximumFractionDigits: 1 })
const percent = new Intl.NumberFormat('de-DE', { style: 'percent', maximumFractionDigits: 0 })
const charts = []

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'text') node.textContent = String(value)
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value)
    else node.setAttribute(key, String(value))
  }
  for (const child of children) {
    if (child === undefined || child === null) continue
    node.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child)
  }
  return node
}

/** Fills a table: caption, header row and rows of cells (numbers right-aligned; a cell may be a node). */
function fillTable(table, caption, headers, rows) {
  table.replaceChildren()
  table.append(el('caption', { text: caption }))
  const head = el('tr')
  headers.forEach((h, i) => head.append(el('th', { scope: 'col', class: i > 0 ? 'num' : undefined, text: h })))
  table.append(el('thead', {}, head))
  const body = el('tbody')
  for (const row of rows) {
    const tr = el('tr')
    row.forEach((cell, i) => {
      const tag = i === 0 ? 'th' : 'td'
      // Numbers right-aligned; a node (a link, a list) as text is.
      const attrs = i === 0 ? { scope: 'row' } : { class: cell instanceof window.Node ? undefined : 'num' }
      tr.append(el(tag, attrs, cell instanceof window.Node ? cell : formatCell(cell)))
    })
    body.append(tr)
  }
  if (rows.length === 0) {
    body.append(el('tr', {}, el('td', { colspan: headers.length, text: 'Keine Daten vorhanden.' })))
  }
  table.append(body)
}

/**
 * A table that may be wider than the screen, in a region that scrolls sideways: focusable (tabindex 0) so that it
 * scrolls with the keyboard too (WCAG 2.1.1), and named so that the focus says where it is.
 */
function scrollable(table, label) {
  return el(
    'div',
    { class: 'scroll', role: 'region', tabindex: 0, 'aria-label': `${label}, waagerecht scrollbar` },
    table,
  )
}

function formatCell(value) {
  if (value === undefined || value === null) return '–'
  if (typeof value === 'number') return number.format(value)
  return String(value)
}

/** "1 Datensatz", "3 Datensätze" */
function datasetsText(count) {
  return `${number.format(count)} ${count === 1 ? 'Datensatz' : 'Datensätze'}`
}

function share(value) {
  return typeof value === 'number' && Number.isFinite(value) ? percent.format(value) : '–'
}

// ---------------------------------------------------------------------------------------------
// Reading the stats API

/** The stats of a fresh database are computed in the background: the API answers 503 with Retry-After meanwhile. */
class NotYetComputed extends Error {
  constructor(retryAfterSeconds) {
    super('statistics are being computed')
    this.retryAfterSeconds = retryAfterSeconds
  }
}

async function getJson(url) {
  const response = await fetch(url, { headers: { accept: 'application/json' } })
  if (response.status === 503) {
    const seconds = Number(response.headers.get('retry-after'))
    throw new NotYetComputed(Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) : 5)
  }
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`)
  return response.json()
}

const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null)

function listOf(body, ...keys) {
  if (Array.isArray(body)) return body
  for (const key of keys) if (body && Array.isArray(body[key])) return body[key]
  return []
}

/** A Kommune of /api/stats/kommunen (src/stats/schemas.ts KommuneStats) as the page uses it. */
function kommune(raw) {
  return {
    name: String(raw.name),
    title: String(raw.title || raw.name),
    datasets: num(raw.datasets) ?? 0,
    scores: { portal: num(raw.score_mean_portal), proportional: num(raw.score_mean_proportional) },
    brokenShare: num(raw.broken_link_share),
    broken: num(raw.broken_links),
    checkedShare: num(raw.checked_link_share),
    views: num(raw.usage?.views) ?? 0,
    downloads: num(raw.usage?.downloads) ?? 0,
    indicators: raw.indicators && typeof raw.indicators === 'object' ? raw.indicators : {},
    unknown: raw.indicators_unknown && typeof raw.indicators_unknown === 'object' ? raw.indicators_unknown : {},
  }
}

// ---------------------------------------------------------------------------------------------
// Charts

// ECharts' aria option: the chart's aria-label becomes a description generated from its data (kept current by every
// setOption), in German. It starts with the page's own label (as the chart's title, not drawn), and the table named
// by aria-describedby stays the full text alternative.
const ARIA_LABEL = {
  general: { withTitle: '{title}.', withoutTitle: 'Diagramm.' },
  series: {
    maxCount: 10,
    single: { prefix: '', withName: ' {seriesName}: ', withoutName: ' ' },
    multiple: {
      prefix: ' {seriesCount} Reihen.',
      withName: ' {seriesName}: ',
      withoutName: ' Reihe {seriesId}: ',
      separator: { middle: '', end: '' },
    },
  },
  data: {
    maxCount: 10,
    allData: '',
    partialData: 'die ersten {displayCnt} Werte: ',
    withName: '{name} {value}',
    withoutName: '{value}',
    separator: { middle: ', ', end: '.' },
  },
}

/** A chart in the element `id`; `positions`: the dimensions of its data that are positions (not said aloud). */
function chart(id, positions) {
  const node = document.getElementById(id)
  // Drawn again (another score mode): a new instance in place of the old one.
  const old = echarts.getInstanceByDom(node)
  if (old) {
    charts.splice(charts.indexOf(old), 1)
    old.dispose()
  }
  const label = node.getAttribute('aria-label') ?? ''
  const instance = echarts.init(node, null, { renderer: 'svg' })
  // Merged with each chart's own option (setOption merges).
  instance.setOption({
    aria: { enabled: true, label: { ...ARIA_LABEL, data: { ...ARIA_LABEL.data, excludeDimensionId: positions } } },
    title: { show: false, text: label },
  })
  charts.push(instance)
  return instance
}

const narrow = () => window.matchMedia('(max-width: 48rem)').matches
const round = (v) => (v === null ? null : Math.round(v * 10) / 10)
const short = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)
// Tooltips as rich text in the SVG (renderMode richText): no HTML is made from API texts.
const TOOLTIP = { renderMode: 'richText', confine: true }

/** The Kommunen by their mean score in `mode`, best first; without a score last; ties by name (as the API sorts). */
function rankedBy(kommunen, mode) {
  return [...kommunen].sort((a, b) => {
    const x = a.scores[mode]
    const y = b.scores[mode]
    if (x === y) return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    if (x === null) return 1
    if (y === null) return -1
    return y - x
  })
}

function renderRanking(kommunen, mode, onSelect, selected) {
  const ranked = rankedBy(kommunen, mode)
  const list = document.getElementById('ranking-list')
  list.replaceChildren(
    ...ranked.map((k) =>
      el(
        'li',
        {},
        el('button', {
          type: 'button',
          'data-kommune': k.name,
          'aria-pressed': String(k.name === selected),
          text: `${k.title}: ${formatCell(k.scores[mode])} Punkte (${datasetsText(k.datasets)})`,
          onclick: () => onSelect(k.name),
        }),
      ),
    ),
  )
  const shown = [...ranked].reverse()
  const c = chart('ranking-chart', [1])
  c.setOption({
    animation: false,
    color: COLORS,
    tooltip: { ...TOOLTIP, trigger: 'axis', axisPointer: { type: 'shadow' } },
    grid: { left: 8, right: 24, top: 8, bottom: 40, containLabel: true },
    xAxis: {
      type: 'value',
      max: MAX_SCORE,
      name: `Punkte (höchstens ${MAX_SCORE})`,
      nameLocation: 'middle',
      nameGap: 28,
      nameTextStyle: { color: '#1a1a1a' },
      axisLabel: { color: '#1a1a1a' },
    },
    yAxis: {
      type: 'category',
      data: shown.map((k) => k.title),
      axisLabel: { formatter: (v) => short(v, narrow() ? 14 : 28), color: '#1a1a1a' },
    },
    series: [
      { type: 'bar', name: `Mittlere Punkte (${MODES[mode].label})`, data: shown.map((k) => round(k.scores[mode])) },
    ],
  })
  c.on('click', (event) => {
    const k = shown[event.dataIndex]
    if (k) onSelect(k.name)
  })
  return ranked
}

/**
 * A heat map cell: the share, or unknown when no dataset's result is known (links not checked yet: an unknown result
 * is not a failed one, so never drawn as 0 %).
 */
function heatCell(k, indicator) {
  const value = num(k.indicators[indicator.id])
  const unknown = num(k.unknown[indicator.id]) ?? 0
  return { value, unknown: value === null && unknown > 0, unknownCount: unknown }
}

const UNKNOWN_TEXT = 'unbekannt (Links noch nicht geprüft)'

function renderHeatmap(kommunen, indicators) {
  const data = []
  const unknownData = []
  kommunen.forEach((k, x) => {
    indicators.forEach((i, y) => {
      const cell = heatCell(k, i)
      // Named, with the share or "unbekannt", for the generated description of the chart (ECharts aria; the values
      // themselves are not read out: an unknown cell is drawn with a placeholder value that must not be heard as 0).
      if (cell.value !== null) {
        const pct = Math.round(cell.value * 100)
        data.push({ name: `${k.title}, ${i.label}: ${pct} %`, value: [x, y, pct] })
      } else if (cell.unknown) unknownData.push({ name: `${k.title}, ${i.label}: unbekannt`, value: [x, y, 0] })
    })
  })
  const c = chart('heatmap-chart', [0, 1, 2])
  c.setOption({
    animation: false,
    tooltip: {
      ...TOOLTIP,
      formatter: (p) =>
        p.seriesIndex === 1
          ? `${kommunen[p.value[0]].title}\n${indicators[p.value[1]].label}: ${UNKNOWN_TEXT}`
          : `${kommunen[p.value[0]].title}\n${indicators[p.value[1]].label}: ${p.value[2]} %`,
    },
    grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
    xAxis: {
      type: 'category',
      data: kommunen.map((k) => k.title),
      axisLabel: { rotate: 40, formatter: (v) => short(v, 14), color: '#1a1a1a' },
    },
    yAxis: {
      type: 'category',
      inverse: true,
      data: indicators.map((i) => i.label),
      axisLabel: { formatter: (v) => short(v, narrow() ? 16 : 34), color: '#1a1a1a' },
    },
    visualMap: {
      min: 0,
      max: 100,
      calculable: false,
      orient: 'horizontal',
      left: 'center',
      bottom: 0,
      text: ['100 %', '0 %'],
      textStyle: { color: '#1a1a1a' },
      inRange: { color: ['#f1f6fb', '#0b3d73'] },
      // The unknown cells keep their own look (grey with "?"), outside the colour scale.
      seriesIndex: 0,
    },
    series: [
      { type: 'heatmap', name: 'Anteil in %', data },
      {
        type: 'heatmap',
        name: 'Unbekannt',
        data: unknownData,
        itemStyle: {
          color: '#e6e6e6',
        },
        label: { show: true, formatter: '?', color: '#1a1a1a' },
      },
    ],
  })
  fillTable(
    document.getElementById('heatmap-table'),
    'Anteil der Datensätze je Kommune, die den Indikator erfüllen (unter denen mit bekanntem Ergebnis)',
    ['Indikator (Punkte)', ...kommunen.map((k) => k.title)],
    indicators.map((i) => [
      `${i.label} (${i.points})`,
      ...kommunen.map((k) => {
        const cell = heatCell(k, i)
        if (cell.unknown)
          return el('span', { class: 'unknown', 'aria-label': UNKNOWN_TEXT, title: UNKNOWN_TEXT, text: 'unbekannt' })
        const text = share(cell.value)
        // Part unknown: the share is over the known results; how many are not known yet is said.
        return cell.unknownCount > 0 ? `${text} (${number.format(cell.unknownCount)} unbekannt)` : text
      }),
    ]),
  )
}

/** /api/stats/history (src/stats/schemas.ts History) as [{day, scores: Map(name -> mean score in `mode`)}], oldest first. */
function historyDays(body, mode) {
  const days = new Map()
  for (const k of listOf(body, 'kommunen')) {
    for (const d of listOf(k, 'days')) {
      const day = String(d.date)
      const scores = days.get(day) ?? new Map()
      days.set(day, scores)
      const score = num(d[MODES[mode].field])
      if (score !== null) scores.set(String(k.name), score)
    }
  }
  return [...days.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([day, scores]) => ({ day, scores }))
}

function renderTrend(kommunen, days, mode) {
  const c = chart('trend-chart', [0])
  c.setOption({
    animation: false,
    color: COLORS,
    tooltip: { ...TOOLTIP, trigger: 'axis' },
    legend: { type: 'scroll', top: 0, formatter: (v) => short(v, 20), textStyle: { color: '#1a1a1a' } },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: { type: 'category', data: days.map((d) => d.day), axisLabel: { color: '#1a1a1a' } },
    yAxis: { type: 'value', name: 'Punkte', max: MAX_SCORE, axisLabel: { color: '#1a1a1a' } },
    series: kommunen.map((k, i) => ({
      id: k.name,
      type: 'line',
      name: k.title,
      symbol: ['circle', 'rect', 'triangle', 'diamond', 'pin', 'arrow'][i % 6],
      data: days.map((d) => {
        const v = d.scores.get(k.name)
        return v === undefined ? null : round(v)
      }),
    })),
  })
  fillTable(
    document.getElementById('trend-table'),
    `Mittlere Qualitätspunkte je Tag (${MODES[mode].label})`,
    ['Tag', ...kommunen.map((k) => k.title)],
    days.map((d) => [d.day, ...kommunen.map((k) => d.scores.get(k.name) ?? null)]),
  )
}

function renderLinks(kommunen) {
  const c = chart('links-chart', [0])
  c.setOption({
    animation: false,
    color: ['#a50e0e'],
    tooltip: { ...TOOLTIP, trigger: 'axis' },
    grid: { left: 8, right: 16, top: 36, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: kommunen.map((k) => k.title),
      axisLabel: { rotate: 30, formatter: (v) => short(v, 14), color: '#1a1a1a' },
    },
    yAxis: { type: 'value', name: 'Anteil in %', max: 100, axisLabel: { color: '#1a1a1a' } },
    series: [
      {
        type: 'bar',
        name: 'Defekte Links in %',
        data: kommunen.map((k) => (k.brokenShare === null ? null : Math.round(k.brokenShare * 1000) / 10)),
      },
    ],
  })
  document.getElementById('links-note').textContent = kommunen.some((k) => k.brokenShare !== null)
    ? ''
    : 'Der Linkprüfer hat noch keine Links der Kommunen geprüft.'
  fillTable(
    document.getElementById('links-table'),
    'Defekte Links je Kommune',
    ['Kommune', 'Anteil defekt', 'Defekte Links'],
    kommunen.map((k) => [k.title, share(k.brokenShare), k.broken]),
  )
}

function renderUsage(kommunen) {
  const c = chart('usage-chart', [0])
  c.setOption({
    animation: false,
    color: ['#0b57a4', '#b34700'],
    tooltip: { ...TOOLTIP, trigger: 'axis' },
    legend: { top: 0, textStyle: { color: '#1a1a1a' } },
    grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
    xAxis: {
      type: 'category',
      data: kommunen.map((k) => k.title),
      axisLabel: { rotate: 30, formatter: (v) => short(v, 14), color: '#1a1a1a' },
    },
    yAxis: { type: 'value', axisLabel: { color: '#1a1a1a' } },
    series: [
      { type: 'bar', name: 'Aufrufe', data: kommunen.map((k) => k.views) },
      { type: 'bar', name: 'Downloads', data: kommunen.map((k) => k.downloads) },
    ],
  })
  fillTable(
    document.getElementById('usage-table'),
    'Aufrufe und Downloads je Kommune in den letzten 30 Tagen',
    ['Kommune', 'Aufrufe', 'Downloads'],
    kommunen.map((k) => [k.title, k.views, k.downloads]),
  )
}

function renderSearches(usage) {
  fillTable(
    document.getElementById('searches-table'),
    'Suchanfragen ohne Treffer in den letzten 30 Tagen (häufigste zuerst)',
    ['Suchbegriff', 'Anzahl'],
    listOf(usage, 'zero_result_searches').map((s) => [String(s.query), num(s.count)]),
  )
}

// ---------------------------------------------------------------------------------------------
// Drill-down

let detailRequest = 0

/** A dataset's fixes as a list: "what to do: +N Punkte", worth most first (the API's order). */
function fixList(fixes) {
  if (fixes.length === 0) return el('span', { text: 'Keine Verbesserung offen' })
  return el(
    'ul',
    { class: 'fixes' },
    ...fixes.map((f) =>
      el('li', { text: `${String(f.fix?.de ?? f.fix_id)}: +${number.format(num(f.points) ?? 0)} Punkte` }),
    ),
  )
}

function datasetRow(d) {
  const name = String(d.name)
  return [
    el('a', { href: `/api/3/action/package_show?id=${encodeURIComponent(name)}`, text: String(d.title || name) }),
    round(num(d.score)),
    BANDS[d.band] ?? String(d.band ?? '–'),
    fixList(listOf(d, 'fixes')),
    el('a', { href: `/dataset/${encodeURIComponent(name)}/quality`, text: 'Punkte und Verbesserungen' }),
  ]
}

/**
 * The Kommune's datasets, lowest score first, PAGE at a time (GET /api/stats/kommunen/{name}/datasets), each with its
 * fixes; "Weitere Datensätze" appends the next page.
 */
function datasetBrowser(name, mode, request) {
  const table = el('table', { id: 'detail-datasets' })
  const rows = []
  const more = el('button', { type: 'button', id: 'detail-more', class: 'more', hidden: true })
  const status = el('p', { class: 'hint', role: 'status', 'aria-live': 'polite' })
  const headers = ['Datensatz', 'Punkte', 'Bewertung', 'Verbesserungen', 'Erklärung']
  const caption = () => `Datensätze mit den niedrigsten Punkten zuerst (${MODES[mode].label}), mit ihren Verbesserungen`
  const load = async () => {
    more.disabled = true
    let page
    try {
      page = await getJson(API.datasets(name, mode, rows.length))
    } catch (err) {
      if (request === detailRequest)
        status.textContent = `Weitere Datensätze konnten nicht geladen werden (${err.message}).`
      more.disabled = false
      return
    }
    if (request !== detailRequest) return
    const datasets = listOf(page, 'datasets')
    rows.push(...datasets.map(datasetRow))
    fillTable(table, caption(), headers, rows)
    const total = num(page.count) ?? rows.length
    status.textContent = `${number.format(rows.length)} von ${datasetsText(total)} angezeigt.`
    more.hidden = rows.length >= total || datasets.length === 0
    more.disabled = false
    more.textContent = `Weitere ${number.format(Math.min(PAGE, total - rows.length))} Datensätze laden`
  }
  more.addEventListener('click', () => void load())
  return { table, more, status, load }
}

function themeTable(detail) {
  const themes = detail.themes && typeof detail.themes === 'object' ? Object.entries(detail.themes) : []
  themes.sort(([a, x], [b, y]) => y - x || (a < b ? -1 : 1))
  const table = el('table', { id: 'detail-themes' })
  fillTable(
    table,
    'Öffentliche Datensätze je Thema (ein Datensatz zählt bei jedem seiner Themen)',
    ['Thema', 'Datensätze'],
    themes.map(([code, count]) => [THEMES[code] ?? code, num(count)]),
  )
  return table
}

async function showKommune(name, titles, mode) {
  const request = ++detailRequest
  for (const button of document.querySelectorAll('#ranking-list button'))
    button.setAttribute('aria-pressed', String(button.dataset.kommune === name))
  const title = document.getElementById('detail-title')
  const body = document.getElementById('detail-body')
  const hint = document.getElementById('detail-hint')
  title.textContent = `Details: ${titles.get(name) ?? name}`
  hint.textContent = 'Wird geladen …'
  body.replaceChildren()
  const browser = datasetBrowser(name, mode, request)
  let detail
  try {
    ;[detail] = await Promise.all([getJson(API.kommune(name)), browser.load()])
  } catch (err) {
    if (request === detailRequest) hint.textContent = `Die Details konnten nicht geladen werden (${err.message}).`
    return
  }
  if (request !== detailRequest) return
  hint.textContent = ''
  const fixes = listOf(detail, 'top_fixes')
  const fixTable = el('table', { id: 'detail-fixes' })
  fillTable(
    fixTable,
    'Verbesserungen, die im Katalog der Kommune die meisten Punkte bringen (wie data.europa.eu bewertet)',
    ['Verbesserung', 'Punkte insgesamt', 'Datensätze'],
    fixes.map((f) => [String(f.fix?.de ?? f.fix_id), round(num(f.points)), num(f.datasets)]),
  )
  body.replaceChildren(
    scrollable(browser.table, 'Datensätze der Kommune'),
    browser.status,
    browser.more,
    scrollable(fixTable, 'Verbesserungen'),
    scrollable(themeTable(detail), 'Datensätze je Thema'),
  )
  const section = document.getElementById('detail')
  section.focus()
}

const BANDS = { excellent: 'Ausgezeichnet', good: 'Gut', sufficient: 'Ausreichend', bad: 'Mangelhaft' }

// ---------------------------------------------------------------------------------------------

async function main() {
  const status = document.getElementById('status')
  let kommunenBody, indicators, historyBody, usageBody
  try {
    ;[kommunenBody, indicators, historyBody, usageBody] = await Promise.all([
      getJson(API.kommunen),
      getJson(API.indicators),
      getJson(API.history),
      getJson(API.usage),
    ])
  } catch (err) {
    if (err instanceof NotYetComputed) {
      // Loaded again by itself once the server says the figures may be there.
      status.textContent = `Die Statistik wird gerade berechnet; die Seite lädt in ${err.retryAfterSeconds} Sekunden neu.`
      setTimeout(() => location.reload(), err.retryAfterSeconds * 1000)
      return
    }
    status.textContent = `Die Statistik konnte nicht geladen werden (${err.message}).`
    status.classList.add('error')
    return
  }
  const all = listOf(kommunenBody, 'kommunen').map(kommune)
  // Kommunen without public datasets have nothing to compare: counted in the status line only.
  const kommunen = all.filter((k) => k.datasets > 0)
  const titles = new Map(kommunen.map((k) => [k.name, k.title]))
  const hash = new URLSearchParams(window.location.hash.slice(1))
  const state = {
    mode: hash.get('mode') === 'proportional' ? 'proportional' : 'portal',
    kommune: titles.has(hash.get('kommune') ?? '') ? hash.get('kommune') : null,
  }
  const remember = () => {
    const url = new URL(window.location.href)
    const params = {}
    if (state.kommune) params.kommune = state.kommune
    if (state.mode !== 'portal') params.mode = state.mode
    url.hash = new URLSearchParams(params).toString()
    window.history.replaceState(null, '', url)
  }
  const select = (name) => {
    state.kommune = name
    remember()
    void showKommune(name, titles, state.mode)
  }
  const drawScores = () => {
    renderRanking(kommunen, state.mode, select, state.kommune)
    renderTrend(kommunen, historyDays(historyBody, state.mode), state.mode)
  }
  for (const input of document.querySelectorAll('input[name="mode"]')) {
    input.checked = input.value === state.mode
    input.addEventListener('change', () => {
      if (!input.checked) return
      state.mode = input.value === 'proportional' ? 'proportional' : 'portal'
      remember()
      drawScores()
      if (state.kommune) void showKommune(state.kommune, titles, state.mode)
    })
  }
  drawScores()
  renderHeatmap(kommunen, listOf(indicators))
  renderLinks(kommunen)
  renderUsage(kommunen)
  renderSearches(usageBody)
  const without = all.length - kommunen.length
  status.textContent =
    `${number.format(kommunen.length)} Kommunen mit öffentlichen Datensätzen` +
    (without > 0 ? ` (${number.format(without)} weitere ohne öffentliche Datensätze)` : '') +
    (kommunenBody.as_of ? `, Stand ${kommunenBody.as_of}.` : '.')
  document.body.dataset.ready = 'true'
  performance.mark('dashboard-ready')
  window.addEventListener('resize', () => charts.forEach((c) => c.resize()))
  if (state.kommune) void showKommune(state.kommune, titles, state.mode)
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void main())
else void main()
