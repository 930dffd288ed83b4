// `godonu validate` as a pipeline runs it: exit codes, one-line reasons, formats, JSON output, blank-node
// names, several inputs, a closed pipe.
import { spawn, spawnSync } from 'node:child_process'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { tempDir } from '../helpers/temp.js'

const VALID = 'test/validation/fixtures/valid-dataset.ttl'

function godonu(args: string[], input?: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', ...args], {
    env: { ...process.env, LOG_LEVEL: 'silent' },
    encoding: 'utf8',
    input,
    timeout: 120_000,
  })
}

const noStack = (stderr: string) => !/\n\s+at /.test(stderr)

t.test('a conformant file exits 0, one with violations 1 with the finding named', async (t) => {
  const ok = godonu([VALID])
  t.equal(ok.status, 0, ok.stderr)
  t.match(ok.stdout, /^Konform: 0 Fehler/)
  const dir = tempDir(t, 'godonu-validate-')
  const broken = join(dir, 'broken.ttl')
  writeFileSync(broken, readFileSync(VALID, 'utf8').replace(/dct:title[^;]*;/, ''))
  const bad = godonu([broken, '--lang', 'en'])
  t.equal(bad.status, 1, bad.stderr)
  t.match(bad.stdout, /^Does not conform: 1 violations/)
  t.match(bad.stdout, /Violation: <https:\/\/daten\.example\.org\/catalog> dct:title: The catalogue needs a title/)
})

t.test('unusable input exits 2 with one line and no stack', async (t) => {
  const dir = tempDir(t, 'godonu-validate-')
  const empty = join(dir, 'empty.ttl')
  writeFileSync(empty, '')
  const blank = join(dir, 'blank.ttl')
  writeFileSync(blank, '  \n\n')
  const prefixesOnly = join(dir, 'prefixes.ttl')
  writeFileSync(prefixesOnly, '@prefix dcat: <http://www.w3.org/ns/dcat#> .\n')
  const garbage = join(dir, 'garbage.ttl')
  writeFileSync(garbage, '<a> <b> "unterminated .\n')
  const unknown = join(dir, 'data.docx')
  writeFileSync(unknown, 'x')
  const cases: Array<[string[], RegExp]> = [
    [[empty], /empty\.ttl: empty input$/],
    [[blank], /blank\.ttl: empty input$/],
    [[prefixesOnly], /no RDF statements/],
    [[garbage], /garbage\.ttl: not valid ttl: /],
    [[unknown], /unknown format: extension "\.docx"/],
    [[join(dir, 'missing.ttl')], /missing\.ttl: no such file$/],
    [[dir], /is a directory$/],
    [['http://127.0.0.1:9/catalog.ttl'], /cannot fetch: /],
    [[VALID, '--lang', 'fr'], /--lang must be de or en, not "fr"$/],
    [[VALID, '--format', 'csv'], /--format must be one of ttl, rdf, jsonld, nt/],
    [[VALID, '--output', 'xml'], /--output must be text or json/],
    [[VALID, '--bogus'], /Unknown option '--bogus'/],
    [[], /^godonu: usage: godonu validate/],
  ]
  for (const [args, reason] of cases) {
    const r = godonu(args)
    t.equal(r.status, 2, `${args.join(' ')}: exit 2`)
    const lines = r.stderr.trim().split('\n')
    t.equal(lines.length, 1, `${args.join(' ')}: one line (${r.stderr.trim()})`)
    t.match(lines[0], reason)
    t.ok(noStack(r.stderr), 'no stack trace')
  }
})

t.test('format: extension, .json as JSON-LD, --format override, stdin sniffing', async (t) => {
  const dir = tempDir(t, 'godonu-validate-')
  const jsonld = '/work/shared/fixtures/dcat-ap-de-examples/V2.0-RDF-JSONLD-dcat_ap_de-RefImp_JSONLD_SIMPLE.jsonld'
  const { existsSync } = await import('node:fs')
  if (existsSync(jsonld)) {
    const asJson = join(dir, 'example.json')
    copyFileSync(jsonld, asJson)
    const r = godonu([asJson, '--output', 'json'])
    t.not(r.status, 2, `a .json file is read as JSON-LD: ${r.stderr}`)
    t.equal(JSON.parse(r.stdout).results[0].format, 'jsonld')
  } else t.comment(`skipping the JSON-LD example: ${jsonld} not found (../shared absent)`)
  const noExt = join(dir, 'dataset')
  copyFileSync(VALID, noExt)
  t.equal(godonu([noExt]).status, 0, 'no extension: the content decides (Turtle)')
  const wrongExt = join(dir, 'dataset.rdf')
  copyFileSync(VALID, wrongExt)
  t.equal(godonu([wrongExt]).status, 2, 'Turtle named .rdf is not RDF/XML')
  t.equal(godonu([wrongExt, '--format', 'ttl']).status, 0, '--format overrides the extension')
  const stdin = godonu(['-', '--output', 'json'], readFileSync(VALID, 'utf8'))
  t.equal(stdin.status, 0, stdin.stderr)
  t.equal(JSON.parse(stdin.stdout).results[0].source, '-')
  const rdfxml = '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/>'
  t.match(godonu(['-'], rdfxml).stderr, /no RDF statements in the rdf document/, 'stdin RDF/XML is recognised')
})

t.test('JSON output: stable shape, both languages, blank nodes named by their path', async (t) => {
  const dir = tempDir(t, 'godonu-validate-')
  const file = join(dir, 'temporal.ttl')
  writeFileSync(
    file,
    readFileSync(VALID, 'utf8') +
      '\n<https://daten.example.org/dataset/haushaltsplan-2024> <http://purl.org/dc/terms/temporal> [ a <http://purl.org/dc/terms/PeriodOfTime> ; <http://www.w3.org/ns/dcat#startDate> "gestern"^^<http://www.w3.org/2001/XMLSchema#date> ] .\n',
  )
  const first = godonu([file, '--output', 'json'])
  const second = godonu([file, '--output', 'json'])
  t.equal(first.status, 1, first.stderr)
  t.equal(first.stdout, second.stdout, 'the same input gives the same JSON')
  const doc = JSON.parse(first.stdout)
  t.same(Object.keys(doc), ['profile', 'shapes', 'exitCode', 'summary', 'results'])
  t.equal(doc.exitCode, 1)
  const finding = doc.results[0].findings.find(
    (f: { path: string }) => f.path === 'http://www.w3.org/ns/dcat#startDate',
  )
  t.ok(finding, 'the bad start date is reported')
  t.same(Object.keys(finding), ['severity', 'focusNode', 'path', 'value', 'shape', 'constraint', 'message'])
  t.equal(finding.focusNode, '<https://daten.example.org/dataset/haushaltsplan-2024> dct:temporal')
  t.equal(finding.value, 'gestern')
  t.ok(finding.message.de && finding.message.en, 'German and English message')
  t.notMatch(first.stdout, /_:/, 'no parser blank-node label in the output')
})

t.test('several inputs: a line per input and a summary; the worst status decides', async (t) => {
  const dir = tempDir(t, 'godonu-validate-')
  const empty = join(dir, 'empty.ttl')
  writeFileSync(empty, '')
  const r = godonu([VALID, empty, '--lang', 'en'])
  t.equal(r.status, 2)
  t.match(r.stdout, /valid-dataset\.ttl: Conforms/)
  t.match(r.stdout, /2 documents: 1 conform, 0 with violations, 1 unusable\n$/)
})

t.test('a closed pipe ends the command quietly', async (t) => {
  const catalog = '/work/shared/fixtures/real-catalogs/destatis-catalog-original-input.rdf'
  const { existsSync } = await import('node:fs')
  const input = existsSync(catalog) ? catalog : VALID
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'validate', input, input, input], {
    env: { ...process.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
  // read the first chunk, then close the pipe (as `| head -1` does)
  child.stdout.once('data', () => child.stdout.destroy())
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  t.equal(stderr, '', 'nothing on stderr')
  t.ok(code === 0 || code === 1, `exit ${code}, the status so far`)
})
