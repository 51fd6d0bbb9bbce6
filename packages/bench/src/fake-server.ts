/**
 * A lean GitHub fake for the benchmark, run in its own process so that its CPU is not the client's. It serves
 * `GET /app`, `GET /app/installations` (GitHub's `Link` headers, absolute URLs) and
 * `POST /app/installations/{id}/access_tokens` from precomputed JSON strings, verifies each distinct JWT's RS256
 * signature once (then only its cached claims: `iss`, `iat`, `exp`), mints `ghs_…` tokens that expire in one
 * hour and counts requests and mints per installation. The full simulator (packages/testing) models much more
 * of GitHub and would dominate the measured cost.
 *
 * Started by src/main.ts with `fork`; it reports `{ port }` over IPC. Control routes (no auth): `GET
 * /_bench/stats`, `POST /_bench/reset`.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import * as http from "node:http"
import { apps } from "./scenarios.js"

interface AppData {
  readonly id: number
  readonly slug: string
  readonly base: number
  readonly count: number
  readonly appJson: string
  /** Pages of the small app are kept; the large app's are built per request, so nothing grows with it. */
  readonly pages: Map<string, string> | undefined
}

/** Fed by main.ts: `{ publicKeyPem, smallCount, largeCount }`. */
interface Config {
  readonly publicKeyPem: string
  readonly smallCount: number
  readonly largeCount: number
}

const created = "2024-01-02T03:04:05Z"

const account = (login: string, id: number, type: "Organization" | "User") => {
  const u = `https://api.github.com/users/${login}`
  return `{"login":"${login}","id":${id},"node_id":"MDEyOk9yZ2FuaXphdGlvbj${id}","avatar_url":"https://avatars.githubusercontent.com/u/${id}?v=4","gravatar_id":"","url":"${u}","html_url":"https://github.com/${login}","followers_url":"${u}/followers","following_url":"${u}/following{/other_user}","gists_url":"${u}/gists{/gist_id}","starred_url":"${u}/starred{/owner}{/repo}","subscriptions_url":"${u}/subscriptions","organizations_url":"${u}/orgs","repos_url":"${u}/repos","events_url":"${u}/events{/privacy}","received_events_url":"${u}/received_events","type":"${type}","user_view_type":"public","site_admin":false}`
}

const permissions = `{"contents":"read","issues":"write","metadata":"read","pull_requests":"write"}`
const events = `["issues","pull_request","push"]`

/** One installation as GitHub returns it in `GET /app/installations` (about 1.9 kB). */
const installationJson = (app: { id: number; slug: string }, id: number, index: number) => {
  const login = `org-${index}`
  return `{"id":${id},"client_id":"Iv23li${app.id}bench","account":${
    account(login, 5_000_000 + index, "Organization")
  },"repository_selection":"all","access_tokens_url":"https://api.github.com/app/installations/${id}/access_tokens","repositories_url":"https://api.github.com/installation/repositories","html_url":"https://github.com/organizations/${login}/settings/installations/${id}","app_id":${app.id},"app_slug":"${app.slug}","target_id":${
    5_000_000 + index
  },"target_type":"Organization","permissions":${permissions},"events":${events},"created_at":"${created}","updated_at":"${created}","single_file_name":null,"has_multiple_single_files":false,"single_file_paths":[],"suspended_by":null,"suspended_at":null}`
}

const appJson = (app: { id: number; slug: string }, count: number) =>
  `{"id":${app.id},"client_id":"Iv23li${app.id}bench","slug":"${app.slug}","node_id":"MDM6QXBw${app.id}","owner":${
    account("bench-owner", 4_000_000, "Organization")
  },"name":"${app.slug}","description":"effect-github benchmark app","external_url":"https://example.com","html_url":"https://github.com/apps/${app.slug}","created_at":"${created}","updated_at":"${created}","permissions":${permissions},"events":${events},"installations_count":${count}}`

const makeApp = (app: { id: number; slug: string; installationIdBase: number }, count: number, keep: boolean) => {
  const data: AppData = {
    id: app.id,
    slug: app.slug,
    base: app.installationIdBase,
    count,
    appJson: appJson(app, count),
    pages: keep ? new Map() : undefined
  }
  // A malformed template would make every client fail; parse one of each once.
  JSON.parse(data.appJson)
  JSON.parse(installationJson(app, app.installationIdBase + 1, 1))
  return data
}

const page = (app: AppData, perPage: number, pageNo: number): string => {
  const key = `${perPage}:${pageNo}`
  const kept = app.pages?.get(key)
  if (kept !== undefined) return kept
  const first = (pageNo - 1) * perPage + 1
  const last = Math.min(app.count, pageNo * perPage)
  const items: Array<string> = []
  for (let i = first; i <= last; i++) items.push(installationJson(app, app.base + i, i))
  const json = `[${items.join(",")}]`
  app.pages?.set(key, json)
  return json
}

const start = (config: Config) => {
  const publicKey = crypto.createPublicKey(config.publicKeyPem)
  const byIss = new Map<string, AppData>([
    [String(apps.small.id), makeApp(apps.small, config.smallCount, true)],
    [String(apps.large.id), makeApp(apps.large, config.largeCount, false)]
  ])
  /** JWT -> its app and expiry, once its signature has been verified. */
  const verified = new Map<string, { app: AppData; iat: number; exp: number }>()
  const tokenPrefix = crypto.randomBytes(12).toString("hex") // 24 alphanumerics; a base-36 counter fills the rest
  let minted = 0
  let cpu0 = process.cpuUsage()
  const counts = { getApp: 0, listPages: 0, mints: 0, rejected: 0, notFound: 0 }
  const mintsById = new Map<number, number>()
  let port = 0

  const reset = () => {
    cpu0 = process.cpuUsage()
    for (const k of Object.keys(counts) as Array<keyof typeof counts>) counts[k] = 0
    mintsById.clear()
  }

  // Rate-limit headers as GitHub sends them, so clients that read them pay for it as they would in production.
  const headers = (extra?: Record<string, string>) => {
    const nowS = Math.floor(Date.now() / 1000)
    return {
      "content-type": "application/json; charset=utf-8",
      "x-github-api-version-selected": "2022-11-28",
      "x-ratelimit-limit": "15000",
      "x-ratelimit-remaining": "14999",
      "x-ratelimit-used": "1",
      "x-ratelimit-reset": String(nowS + 3600),
      "x-ratelimit-resource": "core",
      "x-github-request-id": `BENCH:${++requestCounter}`,
      ...extra
    }
  }
  let requestCounter = 0

  const send = (res: http.ServerResponse, status: number, body: string, extra?: Record<string, string>) => {
    res.writeHead(status, headers(extra))
    res.end(body)
  }
  const fail = (res: http.ServerResponse, status: number, message: string) =>
    send(
      res,
      status,
      JSON.stringify({ message, documentation_url: "https://docs.github.com/rest", status: `${status}` })
    )

  const authenticate = (req: http.IncomingMessage): AppData | string => {
    const header = req.headers.authorization
    if (!header || !/^bearer /i.test(header)) return "A JSON web token could not be decoded"
    const jwt = header.slice(7).trim()
    let entry = verified.get(jwt)
    if (entry === undefined) {
      const parts = jwt.split(".")
      if (parts.length !== 3) return "A JSON web token could not be decoded"
      let claims: { iss?: unknown; iat?: unknown; exp?: unknown }
      try {
        const head = JSON.parse(Buffer.from(parts[0]!, "base64url").toString())
        if (head.alg !== "RS256") return "'alg' must be RS256"
        claims = JSON.parse(Buffer.from(parts[1]!, "base64url").toString())
      } catch {
        return "A JSON web token could not be decoded"
      }
      const signed = Buffer.from(`${parts[0]}.${parts[1]}`)
      if (!crypto.verify("RSA-SHA256", signed, publicKey, Buffer.from(parts[2]!, "base64url"))) {
        return "A JSON web token could not be decoded"
      }
      const app = byIss.get(String(claims.iss))
      if (app === undefined) return "Integration not found"
      if (typeof claims.iat !== "number" || typeof claims.exp !== "number") return "'iat' and 'exp' are required"
      if (claims.exp - claims.iat > 660) return "'Expiration time' claim ('exp') is too far in the future"
      if (verified.size > 100_000) verified.clear()
      entry = { app, iat: claims.iat, exp: claims.exp }
      verified.set(jwt, entry)
    }
    const now = Date.now() / 1000
    if (entry.exp <= now) return "'Expiration time' claim ('exp') must be a numeric value representing the future time"
    if (entry.iat > now + 60) return "'Issued at' claim ('iat') must be an Integer representing the time in the past"
    return entry.app
  }

  const mint = (res: http.ServerResponse, app: AppData, id: number) => {
    const index = id - app.base
    if (!(index >= 1 && index <= app.count)) return fail(res, 404, "Not Found")
    counts.mints++
    mintsById.set(id, (mintsById.get(id) ?? 0) + 1)
    const token = `ghs_${tokenPrefix}${(++minted).toString(36).padStart(12, "0")}`
    const expiresAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 3_600_000).toISOString().replace(".000", "")
    send(
      res,
      201,
      `{"token":"${token}","expires_at":"${expiresAt}","permissions":${permissions},"repository_selection":"all"}`
    )
  }

  const list = (res: http.ServerResponse, app: AppData, prefix: string, query: URLSearchParams) => {
    const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? 30) || 30))
    const pageNo = Math.max(1, Number(query.get("page") ?? 1) || 1)
    const lastPage = Math.max(1, Math.ceil(app.count / perPage))
    const url = (p: number) => `<http://127.0.0.1:${port}${prefix}/app/installations?per_page=${perPage}&page=${p}>`
    const links: Array<string> = []
    if (pageNo > 1) links.push(`${url(Math.min(pageNo - 1, lastPage))}; rel="prev"`)
    if (pageNo < lastPage) links.push(`${url(pageNo + 1)}; rel="next"`, `${url(lastPage)}; rel="last"`)
    if (pageNo > 1) links.push(`${url(1)}; rel="first"`)
    counts.listPages++
    send(res, 200, page(app, perPage, pageNo), links.length > 0 ? { link: links.join(", ") } : undefined)
  }

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const raw = req.url ?? "/"
    const q = raw.indexOf("?")
    let path = q === -1 ? raw : raw.slice(0, q)
    const query = new URLSearchParams(q === -1 ? "" : raw.slice(q + 1))
    if (path === "/_bench/reset" && req.method === "POST") {
      reset()
      return send(res, 200, "{}")
    }
    if (path === "/_bench/stats") {
      const cpu = process.cpuUsage(cpu0)
      return send(
        res,
        200,
        JSON.stringify({
          cpuMs: (cpu.user + cpu.system) / 1000,
          rssMiB: process.memoryUsage.rss() / 1_048_576,
          ...counts,
          mintsById: Object.fromEntries(mintsById)
        })
      )
    }
    // GHES-shaped base URLs (`/api/v3`) and api.github.com-shaped ones both work.
    const prefix = path.startsWith("/api/v3/") ? "/api/v3" : ""
    path = path.slice(prefix.length)
    const app = authenticate(req)
    if (typeof app === "string") {
      counts.rejected++
      return fail(res, 401, app)
    }
    if (req.method === "GET" && path === "/app") {
      counts.getApp++
      return send(res, 200, app.appJson)
    }
    if (req.method === "GET" && path === "/app/installations") return list(res, app, prefix, query)
    const m = req.method === "POST" ? /^\/app\/installations\/(\d+)\/access_tokens$/.exec(path) : null
    if (m) return mint(res, app, Number(m[1]))
    counts.notFound++
    return fail(res, 404, "Not Found")
  }

  const server = http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
    // Bodies (a mint's optional permissions) are ignored, but read to the end so the connection can be reused.
    if (req.method === "GET") return handle(req, res)
    req.resume()
    req.on("end", () => handle(req, res))
  })
  server.listen(0, "127.0.0.1", () => {
    port = (server.address() as { port: number }).port
    process.send?.({ port })
  })
  process.on("disconnect", () => process.exit(0))
}

process.once("message", (config: Config) => start(config))
