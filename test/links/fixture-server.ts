/**
 * A loopback HTTP server that answers as the links of a catalog do: 200, redirect chains and loops, 404,
 * 405 to HEAD, slow answers, connection resets and wrong content types. It counts what it was asked
 * (per path and method), the User-Agents it saw and the most requests it had in flight at once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Test } from 'tap'

export interface FixtureServer {
  base: string
  port: number
  /** `METHOD path` -> how often requested. */
  hits: Map<string, number>
  userAgents: Set<string>
  /** The most requests in flight at once. */
  maxInFlight: () => number
  /** The most requests in flight at once for one path. */
  maxInFlightPerPath: () => number
  /** Answers the /gate/ requests waiting now (later ones wait for the next call). */
  openGates: () => void
  close: () => Promise<void>
}

export interface FixtureOptions {
  /** How long every /held/ answer waits before it is sent (ms): lets concurrency show. */
  holdMs?: number
}

export async function startFixtureServer(t: Test, options: FixtureOptions = {}): Promise<FixtureServer> {
  const hits = new Map<string, number>()
  const userAgents = new Set<string>()
  let inFlight = 0
  let maxInFlight = 0
  const inFlightByPath = new Map<string, number>()
  let maxPerPath = 0
  const waiting: Array<() => void> = []
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://fixture')
    const key = `${req.method} ${url.pathname}`
    hits.set(key, (hits.get(key) ?? 0) + 1)
    if (req.headers['user-agent']) userAgents.add(req.headers['user-agent'])
    inFlight++
    maxInFlight = Math.max(maxInFlight, inFlight)
    const path = url.pathname
    const onPath = (inFlightByPath.get(path) ?? 0) + 1
    inFlightByPath.set(path, onPath)
    maxPerPath = Math.max(maxPerPath, onPath)
    res.once('close', () => {
      inFlight--
      inFlightByPath.set(path, inFlightByPath.get(path)! - 1)
    })
    if (path === '/ok' || path.startsWith('/file/'))
      return res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8' }).end('a,b\n1,2\n')
    if (path === '/empty') return res.writeHead(204).end()
    if (path === '/html') return res.writeHead(200, { 'content-type': 'text/html' }).end('<p>not csv</p>')
    if (path === '/xml') return res.writeHead(200, { 'content-type': 'text/xml' }).end('<a/>')
    if (path === '/octet') return res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('x')
    if (path === '/missing') return res.writeHead(404, { 'content-type': 'text/plain' }).end('no')
    if (path === '/error') return res.writeHead(500).end()
    const chain = /^\/chain\/(\d+)$/.exec(path)
    if (chain) {
      const n = Number(chain[1])
      return n > 0
        ? res.writeHead(301, { location: `/chain/${n - 1}` }).end()
        : res.writeHead(200, { 'content-type': 'text/csv' }).end('a\n')
    }
    if (path === '/loop/a') return res.writeHead(302, { location: '/loop/b' }).end()
    if (path === '/loop/b') return res.writeHead(302, { location: `http://127.0.0.1:${port}/loop/a` }).end()
    if (path === '/to-invalid') return res.writeHead(302, { location: 'javascript:alert(1)' }).end()
    if (path === '/redirect-without-location') return res.writeHead(302).end()
    if (path === '/nohead') {
      if (req.method === 'HEAD') return res.writeHead(405, { allow: 'GET' }).end()
      return res.writeHead(200, { 'content-type': 'text/csv' }).end('a,b\n')
    }
    if (path === '/nohead501') {
      if (req.method === 'HEAD') return res.writeHead(501).end()
      // A large body that never ends: the checker must stop after the first bytes.
      res.writeHead(200, { 'content-type': 'text/csv' })
      const timer = setInterval(() => res.write('x'.repeat(16384)), 5)
      res.once('close', () => clearInterval(timer))
      return
    }
    if (path === '/wms') {
      const params = new URLSearchParams(url.search)
      const request = [...params].find(([k]) => k.toLowerCase() === 'request')?.[1]
      if (req.method !== 'GET' || request !== 'GetCapabilities') return res.writeHead(400).end()
      return res.writeHead(200, { 'content-type': 'application/vnd.ogc.wms_xml' }).end('<WMS_Capabilities/>')
    }
    if (path === '/slow' || path.startsWith('/slow/')) {
      const timer = setTimeout(() => res.writeHead(200).end('late'), 5000)
      res.once('close', () => clearTimeout(timer))
      return
    }
    if (path === '/slow-body') {
      res.writeHead(200, { 'content-type': 'text/csv' })
      res.flushHeaders()
      const timer = setTimeout(() => res.end('late'), 5000)
      res.once('close', () => clearTimeout(timer))
      return
    }
    if (path === '/reset') {
      req.socket.destroy()
      return
    }
    if (path.startsWith('/gate/')) {
      const answer = () => res.writeHead(200, { 'content-type': 'text/csv' }).end('a\n')
      waiting.push(answer)
      return
    }
    if (path.startsWith('/held/')) {
      const timer = setTimeout(
        () => res.writeHead(200, { 'content-type': 'text/csv' }).end('a\n'),
        options.holdMs ?? 50,
      )
      res.once('close', () => clearTimeout(timer))
      return
    }
    res.writeHead(404).end()
  }
  const server: Server = createServer(handle)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const openGates = () => {
    for (const answer of waiting.splice(0)) answer()
  }
  const close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  t.teardown(close)
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    hits,
    userAgents,
    maxInFlight: () => maxInFlight,
    maxInFlightPerPath: () => maxPerPath,
    openGates,
    close,
  }
}

/** A loopback port on which nothing listens (taken and given back). */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
