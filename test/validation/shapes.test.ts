// Our own shape files: well-formed, every rule bilingual, every linked shape defined.
import t from 'tap'
import { Store, DataFactory } from 'n3'
import { OWN_PROFILE_FILES, SHAPES_DIR, type Profile } from '../../src/validation/validator.js'
import { parseTurtleFile } from '../../src/validation/vocabulary-graph.js'

const SH = 'http://www.w3.org/ns/shacl#'
const GS = 'urn:godonu:shapes:'
const n = DataFactory.namedNode

for (const profile of Object.keys(OWN_PROFILE_FILES) as Profile[]) {
  t.test(`shapes are well-formed: ${profile}`, async (t) => {
    const store = new Store(OWN_PROFILE_FILES[profile].flatMap((f) => parseTurtleFile(`${SHAPES_DIR}/${f}`)))
    const objects = (s: string, p: string) => store.getObjects(n(s), n(p), null)

    const linked = new Set<string>()
    for (const p of ['property', 'node', 'qualifiedValueShape']) {
      for (const q of store.getQuads(null, n(SH + p), null, null)) if (q.object.value.startsWith(GS)) linked.add(q.object.value)
    }
    for (const list of store.getQuads(null, n(SH + 'or'), null, null)) {
      let cell = list.object
      while (cell.value !== 'http://www.w3.org/1999/02/22-rdf-syntax-ns#nil') {
        const first = store.getObjects(cell, n('http://www.w3.org/1999/02/22-rdf-syntax-ns#first'), null)[0]
        if (first?.value.startsWith(GS)) linked.add(first.value)
        cell = store.getObjects(cell, n('http://www.w3.org/1999/02/22-rdf-syntax-ns#rest'), null)[0]
      }
    }
    const undefinedShapes = [...linked].filter((s) => store.getQuads(n(s), n('http://www.w3.org/1999/02/22-rdf-syntax-ns#type'), null, null).length === 0)
    t.same(undefinedShapes, [], 'every linked gs: shape is defined (a sh:PropertyShape or sh:NodeShape)')

    const propertyShapes = store.getSubjects(n(SH + 'path'), null, null).filter((s) => s.value.startsWith(GS))
    t.ok(propertyShapes.length > 100, `${propertyShapes.length} named property shapes`)
    const problems: string[] = []
    const withMessage = new Set([...propertyShapes.map((s) => s.value), ...store.getSubjects(n(SH + 'message'), null, null).map((s) => s.value)])
    for (const shape of withMessage) {
      if (!shape.startsWith(GS)) continue
      const messages = objects(shape, SH + 'message')
      const de = messages.filter((m) => m.termType === 'Literal' && m.language === 'de')
      const en = messages.filter((m) => m.termType === 'Literal' && m.language === 'en')
      if (de.length !== 1 || en.length !== 1 || messages.length !== 2) problems.push(`${shape}: messages de=${de.length} en=${en.length}`)
      const severity = objects(shape, SH + 'severity')
      if (severity.length !== 1) problems.push(`${shape}: ${severity.length} severities`)
      if (!linked.has(shape) && store.getQuads(n(shape), n(SH + 'targetClass'), null, null).length === 0) problems.push(`${shape}: not used`)
    }
    t.same(problems, [], 'one German and one English message, one severity, used')

    // a warning says what to do: it names an action (give, use, link, leave out, check, ...)
    const vague: string[] = []
    for (const q of store.getQuads(null, n(SH + 'severity'), n(SH + 'Warning'), null)) {
      for (const m of store.getObjects(q.subject, n(SH + 'message'), null)) {
        const text = m.value
        const acts =
          m.termType === 'Literal' && m.language === 'de'
            ? /\b(geben|verwenden|verlinken|ordnen|beschreiben|prüfen|lassen|sollte|sollten|nennen|muss|müssen)\b/i.test(text)
            : /\b(give|use|link|assign|describe|state|check|leave|should|name|must)\b/i.test(text)
        if (!acts) vague.push(`${q.subject.value}: ${text}`)
      }
    }
    t.same(vague, [], 'every warning says what to do')
  })
}
