import t from 'tap'
import { DataFactory, Parser, Writer } from 'n3'
import type * as RDF from '@rdfjs/types'
import { blankLabel, isAbsoluteIri, isHttpIri, isWritableIri, pathSegment, plainText, repairIri } from '../../src/dcat/iri.js'
import { TextTermEncoder, writableQuad } from '../../src/dcat/term-encoding.js'
import { serialize } from '../../src/dcat/serialize.js'
import { parseRdf, type RdfFormat } from '../../src/dcat/parse.js'
import { DEFAULT_PREFIXES } from '../../src/dcat/namespaces.js'
import { literal as mappingLiteral } from '../../src/dcat/terms.js'

const { namedNode, literal, blankNode, quad } = DataFactory
const TITLE = namedNode('http://purl.org/dc/terms/title')
const S = namedNode('http://example.org/s')

t.test('isAbsoluteIri / isWritableIri follow RFC 3987 and what every format carries', async (t) => {
  for (const ok of ['http://x/a', 'https://x/a?b=c#d', 'urn:uuid:1', 'mailto:a@b.de', 'tel:+49-6421', 'http://x/é', 'http://x/😀', 'http://[::1]/a', 'http://x/%7E', 'http://x/a..b']) {
    t.ok(isWritableIri(ok), `writable: ${ok}`)
  }
  const refused = [
    'http://x/a b', 'http://x/<a>', 'http://x/"', 'http://x/{a}', 'http://x/a|b', 'http://x/a^b', 'http://x/`', 'http://x/a\\b',
    'http://x/\u0000', 'http://x/\n', 'http://x/\u007f', 'http://x/\ud800', 'http://x/\udc00a', 'http://x/%zz', 'http://x/%',
    'relative/path', '//x/a', '', 'http:', ':x', '1http://x', 'http://x/a> <http://y> <http://z> .',
    'http://x/a/../b', 'http://x/a/.', 'http://x/./a', 'x:..', 'dct:title', 'DCAT:Dataset', 'http://x/\ufffe', 'http://x/\ufdd0',
  ]
  for (const bad of refused) t.notOk(isWritableIri(bad), `refused: ${JSON.stringify(bad)}`)
  t.ok(isAbsoluteIri('http://x/a/../b'), 'dot segments are valid RFC 3987, only not writable as they stand')
  t.ok(isWritableIri('javascript:alert(1)'), 'a script IRI is syntactically writable...')
  t.equal(repairIri('javascript:alert(1)'), undefined, '...but the mapping never uses one')
  t.ok(isHttpIri('https://daten.example/x'))
  t.notOk(isHttpIri('urn:x:y'))
  t.notOk(isHttpIri('http:///x'))
})

t.test('repairIri: typed URLs become IRIs, the rest nothing', async (t) => {
  t.equal(repairIri(' http://x/a b.csv '), 'http://x/a%20b.csv')
  t.equal(repairIri('www.marburg.de/daten.csv'), 'http://www.marburg.de/daten.csv')
  t.equal(repairIri('http://x/a"b<c>'), 'http://x/a%22b%3Cc%3E')
  t.equal(repairIri('http://x/a%'), 'http://x/a%25')
  t.equal(repairIri('http://x/\ud800'), 'http://x/%EF%BF%BD')
  t.equal(repairIri('http://x/a/../b/./c'), 'http://x/b/c')
  t.equal(repairIri('http://evil> <http://x> <http://y> .'), 'http://evil%3E%20%3Chttp://x%3E%20%3Chttp://y%3E%20.')
  for (const none of ['> <x> <y> .', 'kein Link', 'relative/path', '', '   ', 'javascript:alert(1)', 'data:text/html,x', 'dct:title']) {
    t.equal(repairIri(none), undefined, `none from ${JSON.stringify(none)}`)
  }
})

t.test('pathSegment and blankLabel are injective and always writable', async (t) => {
  const ids = ['a b<c>', '..', '.', 'x/y', '%41', 'A', 'ä', '\ud800', '"""', '> <x> <y> .', '\u0000']
  const uris = ids.map((id) => `http://x/dataset/${pathSegment(id)}`)
  for (const uri of uris) t.ok(isWritableIri(uri), uri)
  t.equal(new Set(uris.slice(0, -2)).size, ids.length - 2, 'distinct ids give distinct URIs')
  t.equal(pathSegment('3f2504e0-4f89-11d3-9a0c-0305e82c3301'), '3f2504e0-4f89-11d3-9a0c-0305e82c3301', 'UUIDs unchanged')
  const labels = ['n3-1', 'b0_x', 'hx61', 'a b', '1x', 'ä', '']
  const encoded = labels.map(blankLabel)
  t.equal(new Set(encoded).size, labels.length)
  for (const l of encoded) t.match(l, /^[A-Za-z_][A-Za-z0-9_-]*$/)
  t.equal(blankLabel('n3-17'), 'n3-17')
})

t.test('plainText: the text every format carries', async (t) => {
  t.equal(plainText('a\u0000b\u0001c\u000bd'), 'abcd', 'NUL and other C0 controls dropped')
  t.equal(plainText('a\r\nb\rc\nd\te'), 'a\nb\nc\nd\te', 'line breaks as LF, TAB kept')
  t.equal(plainText('x\ud800y\udc00'), 'x\ufffdy\ufffd', 'lone surrogates become U+FFFD')
  t.equal(plainText('😀 \u2028 """ \ufffe'), '😀 \u2028 """ ', 'pairs and U+2028 kept, U+FFFE dropped')
  t.equal(mappingLiteral('a\u0000\ud800').value, 'a\ufffd', 'the mapping makes its literals so')
})

const HOSTILE_TEXT = ['"""', "'''", '"', '\\', '\\"', 'a\nb', 'a\r\nb', '\u2028\u2029', 'a\u0000b', '\ud800', '\udfff', '> <http://x> <http://y> .', '"; <http://x> <http://y> "z', '😀𝔘', 'ﺎﻠﻋﺮﺒﻳﺓ 中文 ελληνικά', '\t\b\f', '\u007f\u0085', 'x'.repeat(100_000), '.', '@prefix x: <http://x/>.', '</dct:title><rdf:Description>', ']]>', '&amp;']

async function readBack(text: string, format: RdfFormat): Promise<RDF.Quad[]> {
  if (format === 'ttl' || format === 'nt') return new Parser({ format: format === 'ttl' ? 'text/turtle' : 'application/n-triples' }).parse(text)
  return parseRdf(text, format)
}

t.test('every literal, IRI and blank node is written so that an independent parser reads back exactly it', async (t) => {
  const quads: RDF.Quad[] = []
  HOSTILE_TEXT.forEach((text, i) => {
    const s = namedNode(`http://example.org/s${i}`)
    quads.push(quad(s, TITLE, literal(text)))
    quads.push(quad(s, TITLE, literal(text, 'de')))
    quads.push(quad(s, TITLE, literal(text, namedNode('http://www.w3.org/2001/XMLSchema#integer'))))
  })
  quads.push(quad(S, TITLE, namedNode('http://x/é😀?a=[b]&c=\'d\'#e')))
  quads.push(quad(S, TITLE, namedNode('http://purl.org/dc/terms/title')))
  quads.push(quad(S, TITLE, namedNode('http://purl.org/dc/terms/a.b')))
  quads.push(quad(S, TITLE, namedNode('http://purl.org/dc/terms/a.')))
  quads.push(quad(S, TITLE, blankNode('odd label <x>')))
  const expected = new Set(
    quads.map((q) => {
      const o = q.object
      const value = o.termType === 'Literal' ? `L${plainText(o.value)}|${o.language}|${o.datatype.value}` : o.termType === 'BlankNode' ? 'B' : `N${o.value}`
      return `${q.subject.value} ${value}`
    }),
  )
  for (const format of ['ttl', 'nt', 'rdf', 'jsonld'] as const) {
    const back = await readBack(await serialize(quads, format), format)
    const got = new Set(
      back.map((q) => {
        const o = q.object
        const value = o.termType === 'Literal' ? `L${o.value}|${o.language}|${o.datatype.value}` : o.termType === 'BlankNode' ? 'B' : `N${o.value}`
        return `${q.subject.value} ${value}`
      }),
    )
    t.same([...got].sort(), [...expected].sort(), `${format}: read back exactly`)
  }
})

/** A literal of another RDF/JS factory (n3's cannot hold a `"` in a datatype or language: its id would be read otherwise). */
function rawLiteral(value: string, language: string, datatype: string): RDF.Literal {
  return { termType: 'Literal', value, language, datatype: namedNode(datatype), equals: (other) => other === undefined } as RDF.Literal
}

t.test('what cannot be written is left out, never written raw', async (t) => {
  const bad: RDF.Quad[] = [
    quad(namedNode('http://x/a> <http://victim/ds> <http://purl.org/dc/terms/title> "pwned" .\n<http://x/b'), TITLE, literal('x')),
    quad(S, TITLE, namedNode('not an iri')),
    quad(S, namedNode('http://x/p q'), literal('x')),
    quad(S, TITLE, rawLiteral('x', '', 'http://x/"dt')),
    quad(S, TITLE, rawLiteral('x', 'de> <http://victim/ds> <http://x/p> "y', 'http://www.w3.org/1999/02/22-rdf-syntax-ns#langString')),
    quad(S, TITLE, namedNode('dct:title')),
  ]
  const good = quad(S, TITLE, literal('kept'))
  t.equal(writableQuad(good), good, 'a writable quad passes as it is')
  for (const q of bad) t.equal(writableQuad(q), undefined, `refused: ${q.subject.value.slice(0, 20)} ${q.predicate.value} ${q.object.value}`)
  for (const format of ['ttl', 'nt', 'rdf', 'jsonld'] as const) {
    const text = await serialize([...bad, good], format)
    const back = await readBack(text, format)
    t.same(back.map((q) => `${q.subject.value} ${q.object.value}`), [`${S.value} kept`], `${format}: only the writable quad`)
    t.notMatch(text, /victim|pwned/, `${format}: nothing of the refused quads in the text`)
  }
  const encoder = TextTermEncoder.for('ttl', DEFAULT_PREFIXES)
  t.equal(encoder.iri('http://purl.org/dc/terms/title'), 'dct:title')
  t.equal(encoder.iri('http://purl.org/dc/terms/a.'), '<http://purl.org/dc/terms/a.>', 'no prefixed name whose local part ends in a dot')
  t.equal(encoder.iri('http://purl.org/dc/terms/a%20b'), '<http://purl.org/dc/terms/a%20b>', 'no prefixed name with a percent sign')
  t.equal(encoder.iri('http://x/a b'), undefined)
  t.equal(TextTermEncoder.for('nt').literal(literal('a"\\\n\u007f😀')), '"a\\"\\\\\\n\\u007F😀"', 'canonical N-Triples escapes')
})

t.test('Turtle and N-Triples text is the text n3 writes for writable terms', async (t) => {
  const quads: RDF.Quad[] = [
    quad(S, namedNode('http://www.w3.org/1999/02/22-rdf-syntax-ns#type'), namedNode('http://www.w3.org/ns/dcat#Dataset')),
    quad(S, TITLE, literal('Titel "zitiert"\nzweite Zeile 😀', 'de')),
    quad(S, TITLE, literal('42', namedNode('http://www.w3.org/2001/XMLSchema#integer'))),
    quad(S, TITLE, literal('4x2', namedNode('http://www.w3.org/2001/XMLSchema#integer'))),
    quad(S, namedNode('http://purl.org/dc/terms/issued'), literal('2024-01-01', namedNode('http://www.w3.org/2001/XMLSchema#date'))),
    quad(S, namedNode('http://www.w3.org/ns/dcat#distribution'), blankNode('n3-7')),
    quad(blankNode('n3-7'), TITLE, literal('true', namedNode('http://www.w3.org/2001/XMLSchema#boolean'))),
    quad(blankNode('n3-7'), TITLE, namedNode('http://x/é😀')),
  ]
  for (const [format, n3Format] of [['ttl', 'text/turtle'], ['nt', 'N-Triples']] as const) {
    const writer = new Writer({ format: n3Format, prefixes: format === 'ttl' ? DEFAULT_PREFIXES : {} })
    for (const q of quads) writer.addQuad(q)
    let n3Text = ''
    writer.end((_error, result) => (n3Text = result))
    t.equal(await serialize(quads, format), n3Text, format)
  }
})
