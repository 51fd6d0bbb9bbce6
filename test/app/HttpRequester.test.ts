import * as GithubError from "@effect-github/app/GithubError"
import * as HttpRequester from "@effect-github/app/HttpRequester"
import { assert, describe, it } from "@effect/vitest"
import * as Config from "effect/Config"
import * as ConfigProvider from "effect/ConfigProvider"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { fake, json, requester, tokenCredentials } from "./HttpRequesterFake.js"

const Repo = Schema.Struct({ id: Schema.Number, name: Schema.String })
const ok = () => fake(() => json({ id: 1, name: "hello" }))

const optionError = (options: HttpRequester.Options) =>
  Effect.flip(requester(ok(), options)).pipe(Effect.map((error) => error.argument))

describe("HttpRequester options", () => {
  it.effect("has PyGithub's defaults", () =>
    Effect.gen(function*() {
      const github = yield* requester(ok(), {})
      assert.strictEqual(github.baseUrl, "https://api.github.com")
      assert.strictEqual(github.perPage, 30)
      assert.strictEqual(HttpRequester.defaults.secondsBetweenRequests, 0.25)
      assert.strictEqual(HttpRequester.defaults.secondsBetweenWrites, 1)
      assert.strictEqual(HttpRequester.defaults.userAgent, "effect-github/0.1.0")
    }))

  it.effect("normalises the base URL", () =>
    Effect.gen(function*() {
      const cases: Array<[string, string, boolean?]> = [
        ["github.example.com", "https://github.example.com/api/v3"],
        ["https://github.example.com", "https://github.example.com/api/v3"],
        ["https://github.example.com/", "https://github.example.com/api/v3"],
        ["https://github.example.com/api/v3/", "https://github.example.com/api/v3"],
        ["github.example.com:8443", "https://github.example.com:8443/api/v3"],
        ["https://ghe.example.com/custom/prefix", "https://ghe.example.com/custom/prefix"],
        ["github.com", "https://api.github.com"],
        ["https://api.github.com/", "https://api.github.com"],
        ["https://api.acme.ghe.com", "https://api.acme.ghe.com"],
        ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
        ["http://localhost:3000/api/v3/", "http://localhost:3000/api/v3"],
        ["http://[::1]:9000", "http://[::1]:9000"],
        ["http://ghe.internal/api/v3", "http://ghe.internal/api/v3", true]
      ]
      for (const [input, expected, allowInsecureHttp] of cases) {
        const github = yield* requester(ok(), { baseUrl: input, allowInsecureHttp })
        assert.strictEqual(github.baseUrl, expected, input)
      }
    }))

  it.effect("rejects unsafe or malformed base URLs, naming the option", () =>
    Effect.gen(function*() {
      for (
        const input of [
          "http://github.example.com",
          "ftp://github.example.com",
          "file:///etc/passwd",
          "javascript:alert(1)",
          "https://user:secret@github.example.com",
          "https://github.example.com/api/v3?x=1",
          "https://exa mple.com",
          ""
        ]
      ) {
        const error = yield* Effect.flip(requester(ok(), { baseUrl: input }))
        assert.strictEqual(error._tag, "InvalidArgument", input)
        assert.strictEqual(error.argument, "baseUrl", input)
        assert.notInclude(error.message, "secret")
      }
    }))

  it.effect("rejects bad options with InvalidArgument naming each", () =>
    Effect.gen(function*() {
      assert.strictEqual(yield* optionError({ perPage: 0 }), "perPage")
      assert.strictEqual(yield* optionError({ perPage: 101 }), "perPage")
      assert.strictEqual(yield* optionError({ perPage: 2.5 }), "perPage")
      assert.strictEqual(yield* optionError({ timeout: 0 }), "timeout")
      assert.strictEqual(yield* optionError({ timeout: "forever" as never }), "timeout")
      assert.strictEqual(yield* optionError({ retry: 0 }), "retry")
      assert.strictEqual(yield* optionError({ retry: "often" as never }), "retry")
      assert.strictEqual(yield* optionError({ secondsBetweenRequests: -1 }), "secondsBetweenRequests")
      assert.strictEqual(yield* optionError({ secondsBetweenWrites: Number.NaN }), "secondsBetweenWrites")
      assert.strictEqual(yield* optionError({ userAgent: "" }), "userAgent")
      assert.strictEqual(yield* optionError({ userAgent: "a\r\nX-Evil: 1" }), "userAgent")
      assert.strictEqual(yield* optionError({ apiVersion: "2022 11 28" }), "apiVersion")
      assert.strictEqual(yield* optionError({ maxRateLimitWait: -5 }), "maxRateLimitWait")
    }))

  it.effect("a bad option fails the layer", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        Layer.build(HttpRequester.layer({ perPage: 500 }).pipe(Layer.provide(ok().layer)))
      )
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(
        Layer.build(HttpRequester.layer({ perPage: 500 }).pipe(Layer.provide(ok().layer)))
      )
      assert.strictEqual(error.argument, "perPage")
    }).pipe(Effect.scoped))
})

describe("HttpRequester layerConfig", () => {
  it.effect("reads options from Config", () =>
    Effect.gen(function*() {
      const layer = HttpRequester.layerConfig({
        baseUrl: Config.string("GITHUB_URL"),
        perPage: Config.integer("GITHUB_PER_PAGE")
      }).pipe(Layer.provide(ok().layer))
      const github = yield* Effect.provide(
        HttpRequester.HttpRequester,
        Layer.provide(
          layer,
          Layer.setConfigProvider(
            ConfigProvider.fromMap(new Map([["GITHUB_URL", "ghe.example.com"], ["GITHUB_PER_PAGE", "100"]]))
          )
        )
      )
      assert.strictEqual(github.baseUrl, "https://ghe.example.com/api/v3")
      assert.strictEqual(github.perPage, 100)
    }))
})

describe("HttpRequester requests", () => {
  it.effect("sends GitHub's headers, and no authorization without credentials", () =>
    Effect.gen(function*() {
      const client = ok()
      const github = yield* requester(client, { userAgent: "my-app/1.0" })
      const repo = yield* github.request(
        { method: "GET", path: "/repos/{owner}/{repo}", params: { owner: "octo-cat", repo: "hello.world" } },
        Repo
      )
      assert.deepStrictEqual(repo, { id: 1, name: "hello" })
      const [seen] = client.seen
      assert.strictEqual(seen!.url.href, "https://api.github.com/repos/octo-cat/hello.world")
      assert.strictEqual(seen!.headers.accept, "application/vnd.github+json")
      assert.strictEqual(seen!.headers["x-github-api-version"], "2022-11-28")
      assert.strictEqual(seen!.headers["user-agent"], "my-app/1.0")
      assert.isUndefined(seen!.headers.authorization)
    }))

  it.effect("withCredentials sends their authorization; the parent stays anonymous", () =>
    Effect.gen(function*() {
      const client = ok()
      const github = yield* requester(client)
      const asApp = github.withCredentials(tokenCredentials("ghs_secret"))
      yield* asApp.request({ method: "GET", path: "/app" }, Schema.Unknown)
      yield* github.request({ method: "GET", path: "/app" }, Schema.Unknown)
      assert.strictEqual(client.seen[0]!.headers.authorization, "token ghs_secret")
      assert.isUndefined(client.seen[1]!.headers.authorization)
    }))

  it.effect("encodes query, JSON bodies and caller headers", () =>
    Effect.gen(function*() {
      const client = fake(() => json({ token: "x" }, { status: 201 }))
      const github = yield* requester(client)
      const response = yield* github.requestJson({
        method: "POST",
        path: "/app/installations/{installation_id}/access_tokens",
        params: { installation_id: 42 },
        query: { a: "b c", skip: undefined, flag: true },
        body: { repositories: ["x"], permissions: { contents: "read" } },
        headers: { "X-Custom": "1" }
      })
      assert.strictEqual(response.status, 201)
      assert.deepStrictEqual(response.body, { token: "x" })
      assert.strictEqual(response.headers["content-type"], "application/json; charset=utf-8")
      const [seen] = client.seen
      assert.strictEqual(seen!.method, "POST")
      assert.strictEqual(seen!.url.pathname, "/app/installations/42/access_tokens")
      assert.strictEqual(seen!.url.search, "?a=b+c&flag=true")
      assert.strictEqual(seen!.headers["content-type"], "application/json")
      assert.strictEqual(seen!.headers["x-custom"], "1")
      assert.deepStrictEqual(JSON.parse(seen!.body!), { repositories: ["x"], permissions: { contents: "read" } })
    }))

  it.effect("requestJson gives null for an empty body", () =>
    Effect.gen(function*() {
      const github = yield* requester(fake(() => json(null, { status: 204 })))
      const response = yield* github.requestJson({ method: "DELETE", path: "/installation/token" })
      assert.strictEqual(response.status, 204)
      assert.isNull(response.body)
    }))

  it.effect("no parameter can change the route: InvalidArgument before any request", () =>
    Effect.gen(function*() {
      const client = ok()
      const github = yield* requester(client)
      const evil = ["a/b", "..", ".", "x?y", "x#y", "%2F", "%2e%2e", "", "a\u0000b", "a\nb", "a\\b", "a\u007f"]
      for (const owner of evil) {
        const error = yield* Effect.flip(
          github.request({ method: "GET", path: "/orgs/{org}/installation", params: { org: owner } }, Repo)
        )
        assert.strictEqual(error._tag, "InvalidArgument", JSON.stringify(owner))
        if (error._tag === "InvalidArgument") assert.strictEqual(error.argument, "org")
      }
      for (const id of [-1, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 2]) {
        const error = yield* Effect.flip(
          github.request({ method: "GET", path: "/app/installations/{id}", params: { id } }, Repo)
        )
        assert.strictEqual(error._tag, "InvalidArgument", String(id))
      }
      const missing = yield* Effect.flip(
        github.request({ method: "GET", path: "/repos/{owner}/{repo}", params: { owner: "a" } }, Repo)
      )
      assert.deepInclude(missing, { _tag: "InvalidArgument", argument: "repo" })
      const unknown = yield* Effect.flip(
        github.request({ method: "GET", path: "/users/{username}", params: { username: "a", user: "b" } }, Repo)
      )
      assert.deepInclude(unknown, { _tag: "InvalidArgument", argument: "params" })
      const template = yield* Effect.flip(github.request({ method: "GET", path: "/search?q=x" }, Repo))
      assert.deepInclude(template, { _tag: "InvalidArgument", argument: "path" })
      assert.strictEqual(client.seen.length, 0)
    }))

  it.effect("percent-encodes other characters; {+name} keeps slashes between checked segments", () =>
    Effect.gen(function*() {
      const client = ok()
      const github = yield* requester(client)
      yield* github.requestJson({ method: "GET", path: "/users/{username}", params: { username: "zoë" } })
      yield* github.requestJson({
        method: "GET",
        path: "/repos/{owner}/{repo}/contents/{+path}",
        params: { owner: "o", repo: "r", path: "docs/read me.md" }
      })
      assert.strictEqual(client.seen[0]!.url.pathname, "/users/zo%C3%AB")
      assert.strictEqual(client.seen[1]!.url.pathname, "/repos/o/r/contents/docs/read%20me.md")
      const error = yield* Effect.flip(
        github.requestJson({
          method: "GET",
          path: "/repos/{owner}/{repo}/contents/{+path}",
          params: { owner: "o", repo: "r", path: "docs/../../../user" }
        })
      )
      assert.deepInclude(error, { _tag: "InvalidArgument", argument: "path" })
      assert.strictEqual(client.seen.length, 2)
    }))
})

const failWith = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const github = yield* requester(
      fake(() => json(body, { status, headers: { "x-github-request-id": "ABCD:1234", ...headers } })),
      { retry: false }
    )
    return yield* Effect.flip(
      github.request({ method: "GET", path: "/repos/{owner}/{repo}", params: { owner: "o", repo: "r" } }, Repo)
    )
  })

describe("HttpRequester status mapping", () => {
  it.effect("401 Bad credentials, with method, route, status, request id, message and docs", () =>
    Effect.gen(function*() {
      const error = yield* failWith(401, {
        message: "Bad credentials",
        documentation_url: "https://docs.github.com/rest"
      })
      assert.deepInclude(error, {
        _tag: "GithubUnauthorized",
        reason: "BadCredentials",
        method: "GET",
        route: "/repos/{owner}/{repo}",
        status: 401,
        requestId: "ABCD:1234",
        githubMessage: "Bad credentials",
        documentationUrl: "https://docs.github.com/rest"
      })
    }))

  it.effect("401 JWT claim rejections are clock skew", () =>
    Effect.gen(function*() {
      const error = yield* failWith(401, {
        message: "'Issued at' claim ('iat') must be an Integer representing a time in the past"
      })
      assert.deepInclude(error, { _tag: "GithubUnauthorized", reason: "ClockSkew" })
    }))

  it.effect("403, 404, 422, 5xx and other statuses", () =>
    Effect.gen(function*() {
      assert.deepInclude(yield* failWith(403, { message: "This installation has been suspended" }), {
        _tag: "GithubForbidden",
        githubMessage: "This installation has been suspended"
      })
      assert.deepInclude(yield* failWith(404, { message: "Not Found" }), { _tag: "GithubNotFound", status: 404 })
      const validation = yield* failWith(422, {
        message: "Validation Failed",
        errors: [{ resource: "Installation", field: "repositories", code: "invalid" }, "plain text"]
      })
      assert.strictEqual(validation._tag, "GithubValidationFailed")
      if (validation._tag === "GithubValidationFailed") {
        assert.deepStrictEqual(validation.errors, [
          { resource: "Installation", field: "repositories", code: "invalid" },
          { message: "plain text" }
        ])
      }
      assert.deepInclude(yield* failWith(502, { message: "Server Error" }), { _tag: "GithubServerError", status: 502 })
      assert.deepInclude(yield* failWith(409, { message: "Conflict" }), {
        _tag: "GithubUnexpectedStatus",
        status: 409
      })
    }))

  it.effect("an HTML page says to append /api/v3", () =>
    Effect.gen(function*() {
      const html = () =>
        new Response("<!DOCTYPE html><html>GitHub Enterprise</html>", {
          status: 200,
          headers: { "content-type": "text/html; charset=utf-8" }
        })
      const github = yield* requester(fake(html), { baseUrl: "https://ghe.example.com/" })
      // the bare host was normalised, so emulate a user who gave an explicit wrong path
      assert.strictEqual(github.baseUrl, "https://ghe.example.com/api/v3")
      const wrong = yield* requester(fake(html), { baseUrl: "https://ghe.example.com/web" })
      const error = yield* Effect.flip(wrong.request({ method: "GET", path: "/app" }, Repo))
      assert.strictEqual(error._tag, "GithubUnexpectedStatus")
      if (error._tag === "GithubUnexpectedStatus") {
        assert.include(error.hint, "/api/v3")
        assert.strictEqual(error.contentType, "text/html; charset=utf-8")
        assert.include(error.message, "append /api/v3")
      }
      const notFound = yield* requester(
        fake(() => new Response("<html>404</html>", { status: 404, headers: { "content-type": "text/html" } })),
        { baseUrl: "https://ghe.example.com/web" }
      )
      assert.strictEqual(
        (yield* Effect.flip(notFound.request({ method: "GET", path: "/app" }, Repo)))._tag,
        "GithubUnexpectedStatus"
      )
    }))

  it.effect("a body that does not match the schema: GithubDecodeError with the path, not the body", () =>
    Effect.gen(function*() {
      const github = yield* requester(
        fake(() =>
          json({ id: "not-a-number", name: "ghs_leakedTokenValue" }, { headers: { "x-github-request-id": "R1" } })
        )
      )
      const error = yield* Effect.flip(github.request({ method: "GET", path: "/app" }, Repo))
      assert.strictEqual(error._tag, "GithubDecodeError")
      if (error._tag === "GithubDecodeError") {
        assert.deepStrictEqual(error.issues, [{ path: "$.id", expected: "number" }])
        assert.deepInclude(error, { status: 200, requestId: "R1", route: "/app", method: "GET" })
        assert.notInclude(error.message, "ghs_leakedTokenValue")
        assert.notInclude(JSON.stringify(error), "not-a-number")
      }
    }))

  it.effect("malformed JSON is a GithubDecodeError", () =>
    Effect.gen(function*() {
      const github = yield* requester(
        fake(() => new Response("{\"id\": 1,", { headers: { "content-type": "application/json" } }))
      )
      const error = yield* Effect.flip(github.requestJson({ method: "GET", path: "/app" }))
      assert.strictEqual(error._tag, "GithubDecodeError")
    }))
})

describe("HttpRequester credentials", () => {
  it.effect("each response's date header is fed to observeServerTime", () =>
    Effect.gen(function*() {
      const observed: Array<Date> = []
      const github = yield* requester(
        fake(() => json({}, { headers: { date: "Wed, 21 Oct 2015 07:28:00 GMT" } }))
      )
      yield* github.withCredentials(tokenCredentials("t", {
        observeServerTime: (date) => Effect.sync(() => observed.push(date))
      })).requestJson({ method: "GET", path: "/app" })
      assert.deepStrictEqual(observed, [new Date("2015-10-21T07:28:00Z")])
    }))

  it.effect("a 401 that shouldRefresh accepts is repeated once with fresh authorization", () =>
    Effect.gen(function*() {
      const rejection = "'Expiration time' claim ('exp') is too far in the future"
      const client = fake((request) =>
        request.headers.authorization === "Bearer fresh"
          ? json({ id: 1, name: "app" })
          : json({ message: rejection }, { status: 401 })
      )
      const asked: Array<boolean> = []
      const credentials: HttpRequester.Credentials = {
        identity: "app:1",
        authorization: (fresh) =>
          Effect.sync(() => {
            asked.push(fresh)
            return Redacted.make(fresh ? "Bearer fresh" : "Bearer stale")
          }),
        shouldRefresh: (error) => GithubError.isJwtClaimRejection(error.githubMessage)
      }
      const github = (yield* requester(client)).withCredentials(credentials)
      const app = yield* github.request({ method: "GET", path: "/app" }, Repo)
      assert.deepStrictEqual(app, { id: 1, name: "app" })
      assert.deepStrictEqual(asked, [false, true])
      assert.deepStrictEqual(client.seen.map((seen) => seen.headers.authorization), ["Bearer stale", "Bearer fresh"])
    }))

  it.effect("only once: a second rejection fails", () =>
    Effect.gen(function*() {
      const client = fake(() => json({ message: "'Issued at' claim ('iat') must be in the past" }, { status: 401 }))
      const github = (yield* requester(client)).withCredentials(tokenCredentials("t", { shouldRefresh: () => true }))
      const error = yield* Effect.flip(github.request({ method: "GET", path: "/app" }, Repo))
      assert.deepInclude(error, { _tag: "GithubUnauthorized", reason: "ClockSkew" })
      assert.strictEqual(client.seen.length, 2)
    }))

  it.effect("rate-limit state is read per resource and kept per credentials", () =>
    Effect.gen(function*() {
      const client = fake((request) =>
        json([], {
          headers: {
            "x-ratelimit-limit": "5000",
            "x-ratelimit-remaining": request.headers.authorization === undefined ? "59" : "4990",
            "x-ratelimit-used": "10",
            "x-ratelimit-reset": "1700000000",
            "x-ratelimit-resource": "core"
          }
        })
      )
      const github = yield* requester(client)
      const asInstallation = github.withCredentials(tokenCredentials("t"))
      assert.isTrue(Option.isNone(yield* asInstallation.rateLimit()))
      yield* asInstallation.requestJson({ method: "GET", path: "/installation/repositories" })
      const state = yield* asInstallation.rateLimit("core")
      assert.deepStrictEqual(
        state,
        Option.some({
          resource: "core",
          limit: 5000,
          remaining: 4990,
          used: 10,
          resetAt: new Date(1700000000 * 1000)
        })
      )
      assert.isTrue(Option.isNone(yield* github.rateLimit()))
      assert.isTrue(Option.isNone(yield* asInstallation.rateLimit("search")))
    }))

  it.effect("secrets never show in errors", () =>
    Effect.gen(function*() {
      const client = fake(() => json({ message: "Bad credentials" }, { status: 401 }))
      const github = (yield* requester(client, { retry: false })).withCredentials(tokenCredentials("ghs_topsecret"))
      const error = yield* Effect.flip(github.request({ method: "GET", path: "/app" }, Repo))
      assert.notInclude(JSON.stringify(error), "ghs_topsecret")
      assert.notInclude(error.message, "ghs_topsecret")
      assert.notInclude(String(error), "ghs_topsecret")
    }))
})
