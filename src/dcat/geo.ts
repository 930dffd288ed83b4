/**
 * Small WKT <-> GeoJSON conversions for locn:geometry / dcat:bbox / dcat:centroid (Point, LineString,
 * Polygon and their Multi* forms; 2D: a Z/M coordinate is dropped). Anything else gives undefined.
 */

type Position = number[]
interface Geometry {
  type: string
  coordinates: unknown
}

const fmt = (p: Position): string => `${p[0]} ${p[1]}`
const ring = (cs: Position[]): string => `(${cs.map(fmt).join(', ')})`

export function geoJsonToWkt(geojson: string): string | undefined {
  let g: Geometry
  try {
    g = JSON.parse(geojson) as Geometry
  } catch {
    return undefined
  }
  if (!g || typeof g !== 'object' || !Array.isArray(g.coordinates)) return undefined
  try {
    const c = g.coordinates as never
    switch (g.type) {
      case 'Point':
        return `POINT (${fmt(c)})`
      case 'LineString':
        return `LINESTRING ${ring(c)}`
      case 'Polygon':
        return `POLYGON (${(c as Position[][]).map(ring).join(', ')})`
      case 'MultiPoint':
        return `MULTIPOINT (${(c as Position[]).map((p) => `(${fmt(p)})`).join(', ')})`
      case 'MultiLineString':
        return `MULTILINESTRING (${(c as Position[][]).map(ring).join(', ')})`
      case 'MultiPolygon':
        return `MULTIPOLYGON (${(c as Position[][][]).map((p) => `(${p.map(ring).join(', ')})`).join(', ')})`
      default:
        return undefined
    }
  } catch {
    return undefined
  }
}

const TYPES: Record<string, string> = {
  POINT: 'Point',
  LINESTRING: 'LineString',
  POLYGON: 'Polygon',
  MULTIPOINT: 'MultiPoint',
  MULTILINESTRING: 'MultiLineString',
  MULTIPOLYGON: 'MultiPolygon',
}

export function wktToGeoJson(wkt: string): string | undefined {
  const m = /^\s*(?:<[^>]*>\s*)?([A-Za-z]+)\s*(?:ZM|Z|M)?\s*(\(.*\))\s*$/s.exec(wkt)
  if (!m) return undefined
  const type = TYPES[m[1]!.toUpperCase()]
  if (!type) return undefined
  const json = m[2]!
    .replace(/\(/g, '[')
    .replace(/\)/g, ']')
    .replace(/(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s+(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?:\s+-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)*/g, '[$1,$2]')
  let nested: unknown
  try {
    nested = JSON.parse(json)
  } catch {
    return undefined
  }
  let coordinates: unknown = nested
  // The outer brackets of the WKT body add one level for Point; MultiPoint may be written with or without inner parens.
  if (type === 'Point') coordinates = (nested as unknown[])[0]
  if (type === 'MultiPoint') coordinates = (nested as unknown[]).map((p) => (Array.isArray((p as unknown[])[0]) ? (p as unknown[])[0] : p))
  return JSON.stringify({ type, coordinates })
}
