/**
 * URLs for GitHub: base URL normalisation, route templates whose parameters cannot change the route, query
 * strings and `Link` headers.
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { InvalidArgument } from "../GithubError.js"

/** @internal */
export const defaultBaseUrl = "https://api.github.com"

/** @internal */
export const isLoopbackHost = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

const invalid = (argument: string, description: string) => Either.left(new InvalidArgument({ argument, description }))

const show = (value: string): string => JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)

/**
 * Whether a URL may be sent to: https anywhere, http only to loopback unless insecure http is allowed.
 *
 * @internal
 */
export const isAllowedProtocol = (url: URL, allowInsecureHttp: boolean): boolean =>
  url.protocol === "https:" || (url.protocol === "http:" && (allowInsecureHttp || isLoopbackHost(url.hostname)))

/**
 * `github.com` → `https://api.github.com`; a bare host (`github.example.com`, `https://github.example.com`)
 * → `https://github.example.com/api/v3` (GHES), except `api.*` hosts (github.com, GHE.com) and loopback
 * (simulators), which serve the API at the root; a URL with a path is kept (trailing slash trimmed).
 *
 * @internal
 */
export const normalizeBaseUrl = (
  input: string | undefined,
  allowInsecureHttp: boolean
): Either.Either<string, InvalidArgument> => {
  const raw = (input ?? defaultBaseUrl).trim()
  if (raw === "") return invalid("baseUrl", "must not be empty (the default is https://api.github.com)")
  const hasScheme = /^[a-z][a-z0-9+.-]*:(?!\d)/i.test(raw)
  let url: URL
  try {
    url = new URL(hasScheme ? raw : `https://${raw}`)
  } catch {
    // what precedes an "@" may be a credential (`https://x-access-token:<token>@host`): never echo it
    const shown = raw.replace(/^([a-z][a-z0-9+.-]*:\/\/)?.*@/is, "$1<credentials>@")
    return invalid("baseUrl", `${show(shown)} is not a URL`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return invalid("baseUrl", `must be an https URL, not ${url.protocol}`)
  }
  if (!isAllowedProtocol(url, allowInsecureHttp)) {
    return invalid(
      "baseUrl",
      `plain http to ${url.hostname} would send credentials in clear text: use https, or set allowInsecureHttp`
    )
  }
  if (url.username !== "" || url.password !== "") {
    return invalid("baseUrl", "must not contain a user name or password")
  }
  if (url.search !== "" || url.hash !== "") {
    return invalid("baseUrl", "must not contain a query or fragment")
  }
  const path = url.pathname.replace(/\/+$/, "")
  if (path !== "") return Either.right(url.origin + path)
  const host = url.hostname
  if (host === "github.com" || host === "www.github.com") return Either.right(defaultBaseUrl)
  if (host.startsWith("api.") || isLoopbackHost(host)) return Either.right(url.origin)
  return Either.right(`${url.origin}/api/v3`)
}

const forbidden = /[/\\?#%]/
// eslint-disable-next-line no-control-regex
const controlChars = /[\u0000-\u001f\u007f]/

const checkSegment = (name: string, value: string, whole: string): InvalidArgument | undefined => {
  const fail = (why: string) =>
    new InvalidArgument({ argument: name, description: `${show(whole)} ${why}: it could change the request's route` })
  if (value === "") return fail("is empty")
  if (value === "." || value === "..") return fail(`is or contains the path segment "${value}"`)
  if (controlChars.test(value)) return fail("contains a control character")
  const found = forbidden.exec(value)
  if (found !== null) return fail(`contains "${found[0]}"`)
  return undefined
}

const encodeParam = (
  name: string,
  value: string | number | undefined,
  reserved: boolean
): Either.Either<string, InvalidArgument> => {
  if (value === undefined) return invalid(name, "is missing: the route needs it")
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0
      ? Either.right(String(value))
      : invalid(name, `must be a non-negative integer, got ${value}`)
  }
  if (typeof value !== "string") return invalid(name, "must be a string or a number")
  // `{+name}` (RFC 6570 reserved expansion) keeps "/" between segments, e.g. a file path or a git ref
  const segments = reserved ? value.split("/") : [value]
  for (const segment of segments) {
    const error = checkSegment(name, segment, value)
    if (error !== undefined) return Either.left(error)
  }
  return Either.right(segments.map(encodeURIComponent).join("/"))
}

const placeholder = /\{(\+?)([A-Za-z_][A-Za-z0-9_]*)\}/g

/** A checked route template: its literal pieces and, between them, the placeholders. */
interface Template {
  readonly literals: ReadonlyArray<string>
  readonly names: ReadonlyArray<string>
  readonly reserved: ReadonlyArray<boolean>
  /** A `{` or `}` outside a placeholder: reported once the parameters are checked. */
  readonly malformed: boolean
}

/** Parsed templates by their text; bounded, as templates may come from callers. */
const templates = new Map<string, Template>()

const parseTemplate = (template: string): Either.Either<Template, InvalidArgument> => {
  if (!template.startsWith("/") || /[?#\s]/.test(template) || template.includes("//")) {
    return invalid(
      "path",
      `${show(template)} is not a route template: it must start with "/" and have no query, fragment or blanks`
    )
  }
  if (!template.includes("{")) return Either.right({ literals: [template], names: [], reserved: [], malformed: false })
  const literals: Array<string> = []
  const names: Array<string> = []
  const reserved: Array<boolean> = []
  let last = 0
  for (const match of template.matchAll(placeholder)) {
    literals.push(template.slice(last, match.index))
    reserved.push(match[1] === "+")
    names.push(match[2]!)
    last = match.index + match[0].length
  }
  literals.push(template.slice(last))
  const malformed = literals.some((literal) => literal.includes("{") || literal.includes("}"))
  return Either.right({ literals, names, reserved, malformed })
}

/**
 * Fills `{name}` (and `{+name}`) in a route template; every value is validated and percent-encoded, so that no
 * value can add, remove or replace a path segment, or start a query or fragment.
 *
 * @internal
 */
export const fillRoute = (
  template: string,
  params: Readonly<Record<string, string | number>> | undefined
): Either.Either<string, InvalidArgument> => {
  let parsed = templates.get(template)
  if (parsed === undefined) {
    const checked = parseTemplate(template)
    if (Either.isLeft(checked)) return Either.left(checked.left)
    parsed = checked.right
    if (templates.size >= 1000) templates.clear()
    templates.set(template, parsed)
  }
  const { literals, malformed, names, reserved } = parsed
  if (names.length === 0 && !malformed) {
    return params === undefined || Object.keys(params).length === 0
      ? Either.right(template)
      : invalid("params", `${show(template)} has no placeholders, but params were given`)
  }
  let filled = literals[0]!
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!
    const encoded = encodeParam(
      name,
      params !== undefined && Object.hasOwn(params, name) ? params[name] : undefined,
      reserved[i]!
    )
    if (Either.isLeft(encoded)) return encoded
    filled += encoded.right + literals[i + 1]!
  }
  if (malformed) return invalid("path", `${show(template)} has a malformed placeholder`)
  for (const name of Object.keys(params ?? {})) {
    if (!names.includes(name)) return invalid("params", `${show(name)} is not a placeholder of ${show(template)}`)
  }
  return Either.right(filled)
}

/**
 * `?a=1&b=x` from a query record; `undefined` values are left out.
 *
 * @internal
 */
export const queryString = (
  query: Readonly<Record<string, string | number | boolean | undefined>> | undefined,
  extra?: Readonly<Record<string, string>>
): string => {
  const search = new URLSearchParams()
  if (query !== undefined) {
    for (const key of Object.keys(query)) {
      const value = query[key]
      if (value !== undefined) search.set(key, String(value))
    }
  }
  if (extra !== undefined) {
    for (const key of Object.keys(extra)) if (!search.has(key)) search.set(key, extra[key]!)
  }
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

/**
 * The `rel="next"` target of a `Link` header, exactly as given.
 *
 * @internal
 */
export const nextLink = (header: string | undefined): Option.Option<string> => {
  if (header === undefined) return Option.none()
  // RFC 8288: link-values `<uri> *( ";" param )` separated by commas; `rel` quoted or not, any case, several
  // space-separated relation types, and among other params in any order
  for (const match of header.matchAll(/<([^>]*)>([^<]*)/g)) {
    for (const param of match[2]!.matchAll(/;\s*([^\s=;,]+)\s*=\s*(?:"([^"]*)"|([^\s;,]*))/g)) {
      if (param[1]!.toLowerCase() !== "rel") continue
      const rels = (param[2] ?? param[3] ?? "").toLowerCase().split(/\s+/)
      if (rels.includes("next")) return Option.some(match[1]!)
      break
    }
  }
  return Option.none()
}

/**
 * The rate-limit bucket a route most likely counts against, to check it before sending.
 *
 * @internal
 */
export const resourceOf = (template: string): string =>
  template.startsWith("/search/code")
    ? "code_search"
    : template.startsWith("/search/")
    ? "search"
    : template === "/graphql"
    ? "graphql"
    : "core"
