/**
 * Outgoing HTTP(S) requests to URLs that users control (harvest sources, links of the catalog), guarded
 * against server-side request forgery: unless private addresses are allowed (HARVEST_PRIVATE_ADDRESSES,
 * LINKCHECK_PRIVATE_ADDRESSES; deny by default), a request may not reach loopback, private (RFC 1918, ULA),
 * link-local (the cloud metadata address 169.254.169.254 among them), CGNAT, unspecified, multicast or
 * reserved addresses, nor their IPv4-mapped IPv6 forms.
 *
 * The rule is applied to the address each connection is actually opened to: an IP literal is checked before
 * the request, a host name by the DNS lookup of the connection itself (`guardedLookup`, which hands the
 * socket only the addresses it checked). So every redirect hop is checked, and a name that resolves to a
 * public address for one lookup and a private one for the next (DNS rebinding) cannot pass. A refusal says
 * only "address not allowed": no address, no port, nothing a public job log could turn into a scanner.
 *
 * A caller whose errors are shown in public (the harvest job log) also asks for `unifyHostRefusals`: a host
 * that does not resolve and one that resolves to a refused address then fail alike (HOST_REFUSED, code
 * EHOSTREFUSED), or the difference would tell which internal names exist. The link checker keeps the
 * distinct DNS and refusal codes: its reports are for the editors of public URLs.
 */
import http, { type IncomingMessage } from 'node:http'
import https from 'node:https'
import { lookup as dnsLookup, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'

/** The one message of a refused address (the error's code is EBLOCKED). */
export const ADDRESS_NOT_ALLOWED = 'address not allowed'

export class AddressNotAllowedError extends Error {
  readonly code = 'EBLOCKED'
  constructor() {
    super(ADDRESS_NOT_ALLOWED)
    this.name = 'AddressNotAllowedError'
  }
}

/**
 * The one message of a host refused by a caller that unifies refusals: it does not resolve, or it resolves to
 * a refused address (the error's code is EHOSTREFUSED either way).
 */
export const HOST_REFUSED = 'host not found or address not allowed'

export class HostRefusedError extends Error {
  readonly code = 'EHOSTREFUSED'
  constructor() {
    super(HOST_REFUSED)
    this.name = 'HostRefusedError'
  }
}

/** Whether an error (of a request, or a lookup's) says that the host name did not resolve. */
export function isHostNotFound(err: unknown): boolean {
  const raw = (err as { code?: unknown } | null)?.code
  return raw === 'ENOTFOUND' || raw === 'ENODATA' || (typeof raw === 'string' && raw.startsWith('EAI_'))
}

/** Whether an error is a host refused by a caller that unifies refusals (HostRefusedError). */
export function isHostRefused(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'EHOSTREFUSED'
}

/** Whether an error (of a request, or a lookup's) is a refused address. */
export function isAddressNotAllowed(err: unknown): boolean {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null
  return e?.code === 'EBLOCKED' || e?.cause?.code === 'EBLOCKED'
}

const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // documentation and benchmarking nets: never a public source
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4')
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
  ['100::', 64], // discard-only
  ['2001:db8::', 32], // documentation
  // IPv4-translated, NAT64 (well-known and local-use), Teredo and 6to4 embed IPv4 addresses a gateway may
  // reach: refused as a whole.
  ['::ffff:0:0:0', 96],
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
  ['2001::', 32],
  ['2002::', 16],
] as const)
  blocked.addSubnet(net, prefix, 'ipv6')

/** The IPv4 address of an IPv4-mapped or -compatible IPv6 address (dotted or hex form), else undefined. */
function embeddedIpv4(address: string): string | undefined {
  const dotted = /^(?:0{0,4}:){0,5}(?:ffff:)?(\d+\.\d+\.\d+\.\d+)$/i.exec(address.replace(/^::/, '0:'))
  if (dotted && isIP(dotted[1]) === 4) return dotted[1]
  const hex = /^::(?:ffff:)?([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address)
  if (hex) {
    const hi = parseInt(hex[1], 16)
    const lo = parseInt(hex[2], 16)
    return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`
  }
  return undefined
}

/** Whether a request may not go to this address (when private addresses are denied). */
export function isBlockedAddress(address: string): boolean {
  const host = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '')
  const family = isIP(host)
  if (family === 4) return blocked.check(host, 'ipv4')
  if (family !== 6) return false
  const v4 = embeddedIpv4(host)
  if (v4 !== undefined) return blocked.check(v4, 'ipv4')
  return blocked.check(host, 'ipv6')
}

/** dns.lookup that refuses names resolving to a blocked address (the connection is never opened). */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 4)
    if (addresses.length === 0 || addresses.some((a) => isBlockedAddress(a.address)))
      return callback(new AddressNotAllowedError(), '', 4)
    if ((options as { all?: boolean }).all)
      return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses)
    callback(null, addresses[0].address, addresses[0].family)
  })
}

/** Throws AddressNotAllowedError when `url`'s host is an IP literal that is blocked (names are checked at lookup). */
export function assertHostAllowed(url: URL, allowPrivateAddresses: boolean): void {
  if (allowPrivateAddresses) return
  const host = url.hostname.replace(/^\[|\]$/g, '')
  if (isIP(host) && isBlockedAddress(host)) throw new AddressNotAllowedError()
}

// Keep-alive agents: a guarded one (every socket it holds was opened through guardedLookup) and an open one.
const agents = {
  guarded: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
  open: { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) },
}

export interface GuardedRequestOptions {
  method?: 'GET' | 'HEAD'
  headers?: Record<string, string>
  signal?: AbortSignal
  allowPrivateAddresses: boolean
  /** false: a connection of its own (not pooled). */
  keepAlive?: boolean
  /**
   * A host that does not resolve and a refused address both reject with HostRefusedError (HOST_REFUSED), for
   * callers that show their errors in public. Default: distinct (the lookup's own error, AddressNotAllowedError).
   */
  unifyHostRefusals?: boolean
}

/**
 * One request (no redirect followed) to `url` under the address rule; resolves with the response once its
 * headers are in. The caller reads or destroys the body.
 */
export function guardedRequest(url: URL, options: GuardedRequestOptions): Promise<IncomingMessage> {
  const refused = (err: Error): Error =>
    options.unifyHostRefusals && (isAddressNotAllowed(err) || isHostNotFound(err)) ? new HostRefusedError() : err
  if (!options.allowPrivateAddresses && isIP(url.hostname.replace(/^\[|\]$/g, '')))
    if (isBlockedAddress(url.hostname)) return Promise.reject(refused(new AddressNotAllowedError()))
  const secure = url.protocol === 'https:'
  const pool = options.allowPrivateAddresses ? agents.open : agents.guarded
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: options.method ?? 'GET',
        signal: options.signal,
        headers: options.headers,
        agent: options.keepAlive === false ? false : secure ? pool.https : pool.http,
        ...(options.allowPrivateAddresses ? {} : { lookup: guardedLookup }),
      },
      resolve,
    )
    req.once('error', (err) => reject(refused(err)))
    req.end()
  })
}
