import { GithubSimulator } from "@effect-github/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as TestClock from "effect/TestClock"
import { bearer, call, jwt, mint, modes, setup, strangerKey } from "./helpers.js"

const linkOf = (header: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const part of (header ?? "").split(", ")) {
    const match = /^<([^>]+)>; rel="([a-z]+)"$/.exec(part)
    if (match) out[match[2]!] = match[1]!
  }
  return out
}

describe("GithubSimulator state", () => {
  it.scoped("is deterministic: sequential ids, specs first, generated accounts cycle org/user/enterprise", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({
        installations: [
          { account: "acme", repositories: ["web", "api"], repositorySelection: "selected" },
          { account: "alice", type: "User", suspended: true }
        ],
        installationCount: 3
      })
      assert.deepStrictEqual(sim.installations.map((i) => [i.id, i.account.login, i.account.type]), [
        [1, "acme", "Organization"],
        [2, "alice", "User"],
        [3, "org-3", "Organization"],
        [4, "user-4", "User"],
        [5, "enterprise-5", "Enterprise"]
      ])
      assert.deepStrictEqual(sim.installations[0]!.repositories.map((r) => [r.id, r.fullName]), [
        [1000001, "acme/web"],
        [1000002, "acme/api"]
      ])
      assert.strictEqual(sim.installations[1]!.repositories.length, 2)
      assert.isDefined(sim.installations[1]!.suspendedAt)
      assert.match(sim.app.clientId, /^Iv23li[0-9a-z]{14}$/)
      assert.match(Redacted.value(sim.app.privateKey), /^-----BEGIN RSA PRIVATE KEY-----\n/)
      assert.match(sim.app.publicKey, /^-----BEGIN PUBLIC KEY-----\n/)
      assert.notInclude(JSON.stringify(sim.app), "PRIVATE KEY")
      assert.notInclude(String(sim.app.privateKey), "PRIVATE KEY")
    }))

  it.scoped("refuses an account installed twice", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        GithubSimulator.make({ installations: [{ account: "acme" }, { account: "ACME" }] })
      )
      assert.isTrue(exit._tag === "Failure")
    }))

  it.effect("layer and layerHttpClient give the in-process client", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      const response = yield* client.get("https://anything.example/rate_limit")
      assert.strictEqual(response.status, 200)
      const sim = yield* GithubSimulator.GithubSimulator
      assert.strictEqual(yield* sim.count("GET /rate_limit"), 1)
    }).pipe(
      Effect.provide(GithubSimulator.layerHttpClient.pipe(Layer.provideMerge(GithubSimulator.layer())))
    ))
})

for (const mode of modes) {
  describe(`GithubSimulator routes (${mode.name})`, () => {
    it.scoped("GET /app answers GitHub's integration shape with the common headers", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { appId: 4242, slug: "my-app", owner: "acme" })
        const reply = yield* call(t, "GET", "/app", { auth: yield* bearer(sim) })
        assert.strictEqual(reply.status, 200)
        assert.strictEqual(reply.json.id, 4242)
        assert.strictEqual(reply.json.slug, "my-app")
        assert.strictEqual(reply.json.client_id, sim.app.clientId)
        assert.strictEqual(reply.json.owner.login, "acme")
        assert.strictEqual(reply.json.html_url, "https://github.com/apps/my-app")
        assert.strictEqual(reply.json.installations_count, 3)
        assert.deepStrictEqual(reply.json.events, ["check_run", "issues", "pull_request", "push"])
        assert.strictEqual(reply.json.permissions.metadata, "read")
        assert.strictEqual(reply.headers["content-type"], "application/json; charset=utf-8")
        assert.strictEqual(reply.headers["date"], new Date(0).toUTCString())
        assert.match(reply.headers["x-github-request-id"]!, /^[0-9A-F]+:[0-9A-F]+:/)
        assert.strictEqual(reply.headers["x-ratelimit-limit"], "5000")
        assert.strictEqual(reply.headers["x-ratelimit-remaining"], "4999")
        assert.strictEqual(reply.headers["x-ratelimit-used"], "1")
        assert.strictEqual(reply.headers["x-ratelimit-reset"], "3600")
        assert.strictEqual(reply.headers["x-ratelimit-resource"], "core")
      }))

    it.scoped("GET /app/installations paginates with absolute Link URLs on the request's origin", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { installationCount: 7 })
        const auth = yield* bearer(sim)
        const first = yield* call(t, "GET", "/app/installations?per_page=3", { auth })
        assert.deepStrictEqual(first.json.map((i: any) => i.id), [1, 2, 3])
        const links = linkOf(first.headers["link"])
        assert.deepStrictEqual(Object.keys(links), ["next", "last"])
        assert.strictEqual(links.next, `${t.baseUrl}/app/installations?per_page=3&page=2`)
        assert.strictEqual(links.last, `${t.baseUrl}/app/installations?per_page=3&page=3`)
        const second = yield* call(t, "GET", links.next!.slice(t.baseUrl.length), { auth })
        assert.deepStrictEqual(second.json.map((i: any) => i.id), [4, 5, 6])
        assert.deepStrictEqual(Object.keys(linkOf(second.headers["link"])), ["prev", "next", "last", "first"])
        const third = yield* call(t, "GET", "/app/installations?per_page=3&page=3", { auth })
        assert.deepStrictEqual(third.json.map((i: any) => i.id), [7])
        assert.deepStrictEqual(linkOf(third.headers["link"]), {
          prev: `${t.baseUrl}/app/installations?per_page=3&page=2`,
          first: `${t.baseUrl}/app/installations?per_page=3&page=1`
        })
        const installation = first.json[0]
        assert.strictEqual(installation.app_id, sim.app.id)
        assert.strictEqual(installation.target_type, "Organization")
        assert.strictEqual(installation.access_tokens_url, `${t.baseUrl}/app/installations/1/access_tokens`)
        assert.strictEqual(installation.account.url, `${t.baseUrl}/users/org-1`)
        assert.strictEqual(installation.suspended_at, null)
        assert.strictEqual(installation.repository_selection, "all")
        assert.strictEqual(installation.created_at, "2024-01-01T00:00:01.000Z")
      }))

    it.scoped("GET /app/installations: per_page defaults to 30, is capped at 100; since filters", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { installationCount: 130, repositoriesPerInstallation: 0 })
        const auth = yield* bearer(sim)
        assert.strictEqual((yield* call(t, "GET", "/app/installations", { auth })).json.length, 30)
        const big = yield* call(t, "GET", "/app/installations?per_page=500", { auth })
        assert.strictEqual(big.json.length, 100)
        assert.strictEqual(linkOf(big.headers["link"]).last, `${t.baseUrl}/app/installations?per_page=500&page=2`)
        const since = yield* call(t, "GET", "/app/installations?since=2024-01-01T00:02:00Z", { auth })
        assert.deepStrictEqual(since.json.map((i: any) => i.id), [
          120,
          121,
          122,
          123,
          124,
          125,
          126,
          127,
          128,
          129,
          130
        ])
        assert.isUndefined(since.headers["link"])
      }))

    it.scoped("installation lookups by id, org, user, repository and enterprise", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, {
          installations: [
            { account: "acme", repositories: ["web"] },
            { account: "alice", type: "User", repositories: ["dotfiles"] },
            { account: "big-corp", type: "Enterprise", repositories: 0 }
          ],
          installationCount: 0
        })
        const auth = yield* bearer(sim)
        const get = (path: string) => Effect.map(call(t, "GET", path, { auth }), (r) => [r.status, r.json?.id])
        assert.deepStrictEqual(yield* get("/app/installations/2"), [200, 2])
        assert.deepStrictEqual(yield* get("/app/installations/99"), [404, undefined])
        assert.deepStrictEqual(yield* get("/app/installations/abc"), [404, undefined])
        assert.deepStrictEqual(yield* get("/orgs/acme/installation"), [200, 1])
        assert.deepStrictEqual(yield* get("/orgs/ACME/installation"), [200, 1])
        assert.deepStrictEqual(yield* get("/orgs/alice/installation"), [404, undefined])
        assert.deepStrictEqual(yield* get("/users/alice/installation"), [200, 2])
        assert.deepStrictEqual(yield* get("/users/acme/installation"), [200, 1])
        assert.deepStrictEqual(yield* get("/users/nobody/installation"), [404, undefined])
        assert.deepStrictEqual(yield* get("/repos/alice/dotfiles/installation"), [200, 2])
        assert.deepStrictEqual(yield* get("/repos/acme/dotfiles/installation"), [404, undefined])
        assert.deepStrictEqual(yield* get("/enterprises/big-corp/installation"), [200, 3])
        assert.deepStrictEqual(yield* get("/enterprises/acme/installation"), [404, undefined])
        const enterprise = yield* call(t, "GET", "/app/installations/3", { auth })
        assert.strictEqual(enterprise.json.account.slug, "big-corp")
        assert.strictEqual(enterprise.json.target_type, "Enterprise")
        const notFound = yield* call(t, "GET", "/orgs/nobody/installation", { auth })
        assert.strictEqual(notFound.json.message, "Not Found")
        assert.strictEqual(
          notFound.json.documentation_url,
          "https://docs.github.com/rest/apps/apps#get-an-organization-installation-for-the-authenticated-app"
        )
      }))

    it.scoped("POST access_tokens mints a ghs_ token for an hour with the installation's scope", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, {
          installations: [{ account: "acme", repositories: ["web", "api"], repositorySelection: "selected" }]
        })
        yield* TestClock.adjust("1500 millis")
        const reply = yield* call(t, "POST", "/app/installations/1/access_tokens", { auth: yield* bearer(sim) })
        assert.strictEqual(reply.status, 201)
        assert.match(reply.json.token, /^ghs_[A-Za-z0-9]{36}$/)
        assert.strictEqual(reply.json.expires_at, "1970-01-01T01:00:01Z")
        assert.deepStrictEqual(reply.json.permissions, sim.installations[0]!.permissions)
        assert.strictEqual(reply.json.repository_selection, "selected")
        assert.isUndefined(reply.json.repositories)
        const [token] = yield* sim.activeTokens
        assert.strictEqual(token!.installationId, 1)
        assert.strictEqual(Redacted.value(token!.token), reply.json.token)
        assert.notInclude(JSON.stringify(yield* sim.tokens), reply.json.token)
      }))

    it.scoped("POST access_tokens narrows to repositories (names or ids) and permissions", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, {
          installations: [{ account: "acme", repositories: ["web", "api", "docs"] }]
        })
        const [web, api, docs] = sim.installations[0]!.repositories
        const reply = yield* call(t, "POST", "/app/installations/1/access_tokens", {
          auth: yield* bearer(sim),
          body: { repositories: ["Web"], repository_ids: [docs!.id], permissions: { contents: "read" } }
        })
        assert.strictEqual(reply.status, 201)
        assert.strictEqual(reply.json.repository_selection, "selected")
        assert.deepStrictEqual(reply.json.permissions, { contents: "read", metadata: "read" })
        assert.deepStrictEqual(reply.json.repositories.map((r: any) => r.full_name), ["acme/web", "acme/docs"])
        const repository = reply.json.repositories[0]
        assert.strictEqual(repository.id, web!.id)
        assert.strictEqual(repository.owner.login, "acme")
        assert.strictEqual(repository.url, `${t.baseUrl}/repos/acme/web`)
        // The narrowed token sees only its repositories.
        const listed = yield* call(t, "GET", "/installation/repositories", { auth: `token ${reply.json.token}` })
        assert.deepStrictEqual(listed.json.repositories.map((r: any) => r.id), [web!.id, docs!.id])
        assert.strictEqual(listed.json.repository_selection, "selected")
        const [issued] = yield* sim.tokens
        assert.deepStrictEqual(issued!.repositoryIds, [web!.id, docs!.id])
        assert.notInclude(listed.json.repositories.map((r: any) => r.id), api!.id)
      }))

    it.scoped("POST access_tokens refuses what the installation does not grant, with GitHub's messages", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, {
          installations: [
            { account: "acme", repositories: ["web"], permissions: { contents: "read", metadata: "read" } },
            { account: "gone", suspended: true }
          ]
        })
        const auth = yield* bearer(sim)
        const post = (id: number, body: unknown) =>
          call(t, "POST", `/app/installations/${id}/access_tokens`, { auth, body })
        const tooMuch = yield* post(1, { permissions: { contents: "write" } })
        assert.strictEqual(tooMuch.status, 422)
        assert.strictEqual(tooMuch.json.message, "The permissions requested are not granted to this installation.")
        assert.strictEqual((yield* post(1, { permissions: { issues: "read" } })).status, 422)
        const foreign = yield* post(1, { repositories: ["web", "other"] })
        assert.strictEqual(foreign.status, 422)
        assert.strictEqual(
          foreign.json.message,
          "There is at least one repository that does not exist or is not accessible to the parent installation."
        )
        assert.strictEqual((yield* post(1, { repository_ids: [999] })).status, 422)
        const many = yield* post(1, { repositories: Array.from({ length: 501 }, (_, i) => `r${i}`) })
        assert.strictEqual(many.status, 422)
        assert.match(many.json.message, /500/)
        const suspended = yield* post(2, {})
        assert.strictEqual(suspended.status, 403)
        assert.strictEqual(suspended.json.message, "This installation has been suspended")
        assert.strictEqual((yield* post(99, {})).status, 404)
        const broken = yield* call(t, "POST", "/app/installations/1/access_tokens", { auth, rawBody: "{nope" })
        assert.strictEqual(broken.status, 400)
        assert.strictEqual(broken.json.message, "Problems parsing JSON")
        assert.strictEqual((yield* sim.tokens).length, 0)
      }))

    it.scoped("GET /installation/repositories: token auth, wrapped body, paginated", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { installations: [{ account: "acme", repositories: 5 }] })
        const { auth } = yield* mint(t, sim, 1)
        const page = yield* call(t, "GET", "/installation/repositories?per_page=2&page=2", { auth })
        assert.strictEqual(page.status, 200)
        assert.strictEqual(page.json.total_count, 5)
        assert.strictEqual(page.json.repository_selection, "all")
        assert.deepStrictEqual(page.json.repositories.map((r: any) => r.name), ["repo-3", "repo-4"])
        assert.deepStrictEqual(linkOf(page.headers["link"]), {
          prev: `${t.baseUrl}/installation/repositories?per_page=2&page=1`,
          next: `${t.baseUrl}/installation/repositories?per_page=2&page=3`,
          last: `${t.baseUrl}/installation/repositories?per_page=2&page=3`,
          first: `${t.baseUrl}/installation/repositories?per_page=2&page=1`
        })
        // The token's own bucket: one mint on the app bucket, one request on the installation's.
        assert.strictEqual(page.headers["x-ratelimit-used"], "1")
        const bearerToken = yield* call(t, "GET", "/installation/repositories", {
          auth: auth.replace("token", "Bearer")
        })
        assert.strictEqual(bearerToken.status, 200)
        const withJwt = yield* call(t, "GET", "/installation/repositories", { auth: yield* bearer(sim) })
        assert.strictEqual(withJwt.status, 403)
        assert.match(withJwt.json.message, /^You must authenticate with an installation access token/)
        const anonymous = yield* call(t, "GET", "/installation/repositories")
        assert.strictEqual(anonymous.status, 401)
        const unknown = yield* call(t, "GET", "/installation/repositories", { auth: "token ghs_unknown" })
        assert.deepStrictEqual([unknown.status, unknown.json.message], [401, "Bad credentials"])
      }))

    it.scoped("each installation's token sees only its own repositories", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, {
          installations: [{ account: "acme", repositories: ["web"] }, { account: "beta", repositories: ["app"] }]
        })
        const one = yield* mint(t, sim, 1)
        const two = yield* mint(t, sim, 2)
        const list = (auth: string) =>
          Effect.map(
            call(t, "GET", "/installation/repositories", { auth }),
            (r) => r.json.repositories.map((x: any) => x.full_name)
          )
        assert.deepStrictEqual(yield* list(one.auth), ["acme/web"])
        assert.deepStrictEqual(yield* list(two.auth), ["beta/app"])
      }))

    it.scoped("DELETE /installation/token revokes the token", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const { auth } = yield* mint(t, sim, 1)
        const revoked = yield* call(t, "DELETE", "/installation/token", { auth })
        assert.strictEqual(revoked.status, 204)
        assert.strictEqual(revoked.text, "")
        const after = yield* call(t, "GET", "/installation/repositories", { auth })
        assert.deepStrictEqual([after.status, after.json.message], [401, "Bad credentials"])
        assert.strictEqual((yield* sim.activeTokens).length, 0)
        assert.isTrue((yield* sim.tokens)[0]!.revoked)
      }))

    it.scoped("GET /rate_limit reports the caller's bucket and is not charged", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { rateLimit: { app: 100 } })
        const auth = yield* bearer(sim)
        yield* call(t, "GET", "/app", { auth })
        const first = yield* call(t, "GET", "/rate_limit", { auth })
        const second = yield* call(t, "GET", "/rate_limit", { auth })
        assert.deepStrictEqual(second.json.rate, { limit: 100, used: 1, remaining: 99, reset: 3600 })
        assert.deepStrictEqual(first.json.resources.core, second.json.rate)
        const anonymous = yield* call(t, "GET", "/rate_limit")
        assert.strictEqual(anonymous.json.rate.limit, 60)
        assert.strictEqual(anonymous.headers["x-ratelimit-limit"], "60")
      }))

    it.scoped("unknown routes get GitHub's 404", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const reply = yield* call(t, "GET", "/app/nothing-here", { auth: yield* bearer(sim) })
        assert.strictEqual(reply.status, 404)
        assert.deepStrictEqual(reply.json, {
          message: "Not Found",
          documentation_url: "https://docs.github.com/rest",
          status: "404"
        })
        assert.strictEqual((yield* call(t, "DELETE", "/app")).status, 404)
        assert.strictEqual(yield* sim.count("*"), 2)
      }))

    it.scoped("serves routes under a path prefix (GHES /api/v3) and links stay under it", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { pathPrefix: "/api/v3", installationCount: 3 })
        assert.isTrue(t.baseUrl.endsWith("/api/v3"))
        const auth = yield* bearer(sim)
        const listed = yield* call(t, "GET", "/app/installations?per_page=1", { auth })
        assert.strictEqual(listed.status, 200)
        assert.strictEqual(linkOf(listed.headers["link"]).next, `${t.baseUrl}/app/installations?per_page=1&page=2`)
        assert.strictEqual(listed.json[0].access_tokens_url, `${t.baseUrl}/app/installations/1/access_tokens`)
        const origin = new URL(t.baseUrl).origin
        assert.strictEqual(listed.json[0].account.html_url, `${origin}/org-1`)
        const outside = yield* call({ client: t.client, baseUrl: origin }, "GET", "/app", { auth })
        assert.strictEqual(outside.status, 404)
        assert.strictEqual((yield* sim.requests)[1]!.path, "/app")
      }))
  })

  describe(`GithubSimulator authentication (${mode.name})`, () => {
    it.scoped("accepts iss as the numeric id, its string, or the client id", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { appId: 77 })
        for (const iss of [77, "77", sim.app.clientId]) {
          const reply = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { iss })}` })
          assert.strictEqual(reply.status, 200, `iss ${iss}`)
        }
        const other = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { iss: 78 })}` })
        assert.strictEqual(other.status, 401)
      }))

    it.scoped("refuses an iat in the future and an exp too far ahead, by the server's clock", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        yield* TestClock.adjust("1000 seconds")
        const future = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { iat: 1001 })}` })
        assert.deepStrictEqual([future.status, future.json.message], [
          401,
          "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued."
        ])
        const far = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { iat: 990, exp: 1601 })}` })
        assert.deepStrictEqual([far.status, far.json.message], [
          401,
          "'Expiration time' claim ('exp') is too far in the future"
        ])
        // GitHub's documented maximum: exp at most 10 minutes after now (iat may be back-dated).
        const edge = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { iat: 940, exp: 1600 })}` })
        assert.strictEqual(edge.status, 200)
      }))

    it.scoped("refuses an expired JWT and a bad signature", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        assert.strictEqual((yield* call(t, "GET", "/app", { auth })).status, 200)
        yield* TestClock.adjust("541 seconds")
        const expired = yield* call(t, "GET", "/app", { auth })
        assert.strictEqual(expired.status, 401)
        assert.match(expired.json.message, /^'Expiration time' claim \('exp'\) must be a numeric value/)
        const forged = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { key: strangerKey })}` })
        assert.deepStrictEqual([forged.status, forged.json.message], [401, "Bad credentials"])
        const garbage = yield* call(t, "GET", "/app", { auth: "Bearer a.b.c" })
        assert.deepStrictEqual([garbage.status, garbage.json.message], [401, "A JSON web token could not be decoded"])
      }))

    it.scoped("app routes refuse installation tokens and missing credentials", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const { auth } = yield* mint(t, sim, 1)
        const withToken = yield* call(t, "GET", "/app/installations", { auth })
        assert.deepStrictEqual([withToken.status, withToken.json.message], [
          401,
          "A JSON web token could not be decoded"
        ])
        assert.strictEqual((yield* call(t, "GET", "/app")).status, 401)
        assert.strictEqual(
          (yield* call(t, "POST", "/app/installations/1/access_tokens", { auth, body: {} })).status,
          401
        )
      }))

    it.scoped("installation tokens expire after their lifetime (TestClock)", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { tokenLifetime: "10 minutes" })
        const { auth, json } = yield* mint(t, sim, 1)
        assert.strictEqual(json.expires_at, "1970-01-01T00:10:00Z")
        yield* TestClock.adjust("9 minutes")
        assert.strictEqual((yield* call(t, "GET", "/installation/repositories", { auth })).status, 200)
        yield* TestClock.adjust("1 minute")
        const expired = yield* call(t, "GET", "/installation/repositories", { auth })
        assert.deepStrictEqual([expired.status, expired.json.message], [401, "Bad credentials"])
        assert.strictEqual((yield* sim.activeTokens).length, 0)
      }))

    it.scoped("clock skew: date header and JWT checks follow the server's clock", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { skew: "2 minutes" })
        yield* TestClock.adjust("1000 seconds")
        const ahead = yield* call(t, "GET", "/rate_limit")
        assert.strictEqual(ahead.headers["date"], new Date(1_120_000).toUTCString())
        // A client whose clock is 2 minutes behind signs an exp that is already past for the server.
        const stale = yield* call(t, "GET", "/app", { auth: `Bearer ${yield* jwt(sim, { iat: 900, exp: 1100 })}` })
        assert.strictEqual(stale.status, 401)
        yield* sim.setSkew(-90_000)
        const behind = yield* call(t, "GET", "/app", { auth: yield* bearer(sim) })
        assert.strictEqual(behind.status, 401)
        assert.match(behind.json.message, /'Issued at' claim/)
        assert.strictEqual(behind.headers["date"], new Date(910_000).toUTCString())
        yield* sim.setSkew("-30 seconds")
        assert.strictEqual((yield* call(t, "GET", "/app", { auth: yield* bearer(sim) })).status, 200)
      }))

    it.scoped("a suspended installation refuses tokens it issued before", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const { auth } = yield* mint(t, sim, 2)
        yield* sim.setSuspended(2, true)
        const refused = yield* call(t, "GET", "/installation/repositories", { auth })
        assert.deepStrictEqual([refused.status, refused.json.message], [403, "This installation has been suspended"])
        const installation = yield* call(t, "GET", "/app/installations/2", { auth: yield* bearer(sim) })
        assert.isString(installation.json.suspended_at)
        assert.strictEqual(installation.json.suspended_by.login, sim.app.owner)
        yield* sim.setSuspended(2, false)
        assert.strictEqual((yield* call(t, "GET", "/installation/repositories", { auth })).status, 200)
      }))
  })

  describe(`GithubSimulator rate limits (${mode.name})`, () => {
    it.scoped("one bucket for the app's JWTs, one per installation; exhausted until the window resets", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode, { rateLimit: { app: 3, installation: 2 } })
        const auth = yield* bearer(sim)
        const token = yield* mint(t, sim, 1)
        const other = yield* mint(t, sim, 2)
        const third = yield* call(t, "GET", "/app", { auth })
        assert.deepStrictEqual([third.status, third.headers["x-ratelimit-remaining"]], [200, "0"])
        const refused = yield* call(t, "GET", "/app", { auth })
        assert.strictEqual(refused.status, 403)
        assert.strictEqual(refused.json.message, `API rate limit exceeded for app ID ${sim.app.id}.`)
        assert.strictEqual(refused.headers["x-ratelimit-remaining"], "0")
        assert.strictEqual(refused.headers["x-ratelimit-reset"], "3600")
        for (let i = 0; i < 2; i++) {
          assert.strictEqual((yield* call(t, "GET", "/installation/repositories", { auth: token.auth })).status, 200)
        }
        const installation = yield* call(t, "GET", "/installation/repositories", { auth: token.auth })
        assert.deepStrictEqual([installation.status, installation.json.message], [
          403,
          "API rate limit exceeded for installation ID 1."
        ])
        const separate = yield* call(t, "GET", "/installation/repositories", { auth: other.auth })
        assert.deepStrictEqual([separate.status, separate.headers["x-ratelimit-used"]], [200, "1"])
        yield* TestClock.adjust("1 hour")
        const again = yield* call(t, "GET", "/app", { auth: yield* bearer(sim) })
        assert.deepStrictEqual([again.status, again.headers["x-ratelimit-remaining"]], [200, "2"])
        assert.strictEqual(again.headers["x-ratelimit-reset"], "7200")
      }))
  })

  describe(`GithubSimulator observation (${mode.name})`, () => {
    it.scoped("records requests with route templates, redacted credentials and parsed bodies", () =>
      Effect.gen(function*() {
        const { sim, t } = yield* setup(mode)
        const auth = yield* bearer(sim)
        yield* call(t, "GET", "/app/installations?per_page=2", { auth })
        yield* call(t, "POST", "/app/installations/3/access_tokens", {
          auth,
          body: { permissions: { issues: "read" } }
        })
        yield* call(t, "GET", "/app/installations/3", { auth })
        yield* call(t, "GET", "/app/installations/2", { auth })
        const requests = yield* sim.requests
        assert.deepStrictEqual(requests.map((r) => r.route), [
          "GET /app/installations",
          "POST /app/installations/{installation_id}/access_tokens",
          "GET /app/installations/{installation_id}",
          "GET /app/installations/{installation_id}"
        ])
        assert.deepStrictEqual(requests[0]!.query, { per_page: "2" })
        assert.strictEqual(requests[1]!.headers["authorization"], "Bearer <redacted>")
        assert.deepStrictEqual(requests[1]!.body, { permissions: { issues: "read" } })
        assert.deepStrictEqual(requests[1]!.params, ["3"])
        assert.strictEqual(requests[1]!.status, 201)
        assert.strictEqual(requests[1]!.path, "/app/installations/3/access_tokens")
        assert.notInclude(JSON.stringify(requests), auth.slice(7))
        assert.strictEqual(yield* sim.count("GET /app/installations/{installation_id}"), 2)
        assert.strictEqual(yield* sim.count("/app/installations/{installation_id}/access_tokens"), 1)
        assert.strictEqual(yield* sim.count("*"), 4)
        yield* sim.resetRequests
        assert.strictEqual((yield* sim.requests).length, 0)
        assert.strictEqual(yield* sim.count("*"), 0)
      }))
  })
}

describe("GithubSimulator lifetime", () => {
  it.live("closing a server's scope stops that server", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make()
      const url = yield* Effect.scoped(
        Effect.gen(function*() {
          const { url } = yield* sim.server
          const response = yield* Effect.promise(() => fetch(`${url}/rate_limit`))
          assert.strictEqual(response.status, 200)
          yield* Effect.promise(() => response.text())
          return url
        })
      )
      const error = yield* Effect.promise(() => fetch(`${url}/rate_limit`).then(() => undefined, (e) => e))
      assert.instanceOf(error, Error)
    }).pipe(Effect.scoped))

  it.effect("closing the simulator's scope makes its in-process client fail like a refused connection", () =>
    Effect.gen(function*() {
      const sim = yield* Effect.scoped(GithubSimulator.make())
      const result = yield* Effect.either(sim.client.get(`${sim.baseUrl}/rate_limit`))
      assert.isTrue(result._tag === "Left" && result.left._tag === "RequestError")
    }))
})
