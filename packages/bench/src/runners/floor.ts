/**
 * The floor: the least work any correct client must do. An undici `Pool` (16 connections), `JSON.parse`, one
 * RS256 signature with `node:crypto` reused for every request, and tokens cached in a `Map` of promises (which
 * also makes concurrent callers share one mint). No validation, no retries, no rate-limit bookkeeping.
 *
 * @since 0.1.0
 */
import * as crypto from "node:crypto"
import { Pool } from "undici"
import type { ClientFactory, Token } from "../scenarios.js"
import { nextLink, pool, runnerMain } from "../scenarios.js"

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

const factory: ClientFactory = async ({ appId, task }) => {
  const url = new URL(task.baseUrl)
  const prefix = url.pathname.replace(/\/$/, "")
  const http = new Pool(url.origin, { connections: 16 })
  const key = crypto.createPrivateKey(task.privateKeyPem)
  const header = b64({ alg: "RS256", typ: "JWT" })

  const sign = () => {
    const now = Math.floor(Date.now() / 1000)
    const body = `${header}.${b64({ iat: now - 60, exp: now + 540, iss: String(appId) })}`
    return `${body}.${crypto.sign("RSA-SHA256", Buffer.from(body), key).toString("base64url")}`
  }
  let jwt: { value: string; exp: number } | undefined
  const authorization = () => {
    const now = Date.now() / 1000
    if (jwt === undefined || jwt.exp - now < 60) jwt = { value: `Bearer ${sign()}`, exp: now + 540 }
    return jwt.value
  }

  const request = async (method: "GET" | "POST", path: string) => {
    const res = await http.request({
      method,
      path,
      headers: {
        accept: "application/vnd.github+json",
        authorization: authorization(),
        "user-agent": "bench-floor",
        "x-github-api-version": "2022-11-28"
      }
    })
    const text = await res.body.text()
    if (res.statusCode >= 300) throw new Error(`${method} ${path}: ${res.statusCode} ${text}`)
    return { body: JSON.parse(text), link: res.headers.link as string | undefined }
  }

  const tokens = new Map<number, Promise<Token>>()
  const token = (id: number): Promise<Token> => {
    const hit = tokens.get(id)
    if (hit !== undefined) return hit
    const p = request("POST", `${prefix}/app/installations/${id}/access_tokens`).then(({ body }) => ({
      token: body.token as string,
      expiresAt: Date.parse(body.expires_at)
    }))
    tokens.set(id, p)
    p.catch(() => tokens.delete(id))
    return p
  }

  return {
    getApp: async (n) => {
      const ids: Array<number> = []
      for (let i = 0; i < n; i++) ids.push((await request("GET", `${prefix}/app`)).body.id)
      return ids
    },
    listInstallations: async (perPage, onItem) => {
      let path: string | undefined = `${prefix}/app/installations?per_page=${perPage}`
      while (path !== undefined) {
        const { body, link } = await request("GET", path)
        for (const installation of body) onItem(installation.id)
        const next = nextLink(link)
        path = next === undefined ? undefined : next.slice(url.origin.length)
      }
    },
    tokens: (ids, concurrency) => pool(ids.length, concurrency, (i) => token(ids[i]!)),
    jwts: async (n) => Array.from({ length: n }, sign),
    close: () => http.close()
  }
}

runnerMain("floor", factory)
