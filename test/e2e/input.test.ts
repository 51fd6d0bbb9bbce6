/**
 * Issue 9, section 2: bad input, property-tested. Names, ids, permission maps and repository lists go through the
 * public API to an in-process simulator that records every request; `Link` headers come from a fake client;
 * private keys and base URLs go to the constructors. Never a defect; a refused input makes no request; an
 * accepted one makes exactly the intended request (route template and decoded parameters compared at the
 * simulator), and nothing goes to another origin.
 */
import type { InstallationTokens, Integration } from "@effect-github/app"
import { AppAuth, GithubError, HttpRequester } from "@effect-github/app"
import { GithubSimulator } from "@effect-github/testing"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { fc, test } from "@fast-check/vitest"
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { afterAll, assert, beforeAll, describe } from "vitest"
import { type Client, connect, render, scan, Secrets, table, Wire } from "./harness.js"

const RUNS = 150
const unspaced = { secondsBetweenRequests: 0, secondsBetweenWrites: 0 }

// --- the client under test, built once ----------------------------------------------------------------------------

let sim: GithubSimulator.Simulator
let client: Client
const scope = Effect.runSync(Scope.make())

beforeAll(async () => {
  await Effect.runPromise(Scope.extend(
    Effect.gen(function*() {
      sim = yield* GithubSimulator.make({
        installations: [
          { account: "octo-org", repositories: ["hello-world", "docs", "a.b", "x_y", "Mixed-Case"] },
          { account: "octocat", type: "User", repositories: ["dotfiles"] },
          { account: "octo-enterprise", type: "Enterprise", repositories: 1 }
        ],
        installationCount: 2,
        rateLimit: { app: 1e9, installation: 1e9 }
      })
      client = yield* connect(sim, { _tag: "InProcess" }, new Wire())
    }),
    scope
  ))
})

afterAll(async () => {
  await Effect.runPromise(Scope.close(scope, Exit.void))
  table("Bad input, property-tested (defects and off-route requests must be 0)", Object.values(figures))
})

// --- outcomes ------------------------------------------------------------------------------------------------------

type Figures = {
  property: string
  runs: number
  success: number
  InvalidArgument: number
  PrivateKeyError: number
  "GitHub answered (typed)": number
  defects: number
  "off-route requests": number
}

const figures: Record<string, Figures> = {}
const figure = (property: string): Figures =>
  figures[property] ??= {
    property,
    runs: 0,
    success: 0,
    InvalidArgument: 0,
    PrivateKeyError: 0,
    "GitHub answered (typed)": 0,
    defects: 0,
    "off-route requests": 0
  }

/** Classifies an exit, counting it; a defect or an untyped failure fails the property. */
const outcome = (property: string, exit: Exit.Exit<unknown, unknown>): string => {
  const f = figure(property)
  f.runs++
  if (Exit.isSuccess(exit)) {
    f.success++
    return "success"
  }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isNone(failure) || !GithubError.isGithubError(failure.value)) {
    f.defects++
    assert.fail(`a defect or untyped failure: ${Cause.pretty(exit.cause)}`)
  }
  const tag = (failure.value as GithubError.GithubError)._tag
  if (tag === "InvalidArgument" || tag === "PrivateKeyError") f[tag]++
  else f["GitHub answered (typed)"]++
  return tag
}

/** Runs `effect` against a clean request record; returns the outcome and what the simulator received. */
const attempt = async (property: string, effect: Effect.Effect<unknown, unknown>) => {
  await Effect.runPromise(sim.resetRequests)
  const exit = await Effect.runPromise(Effect.exit(effect))
  const requests = await Effect.runPromise(sim.requests)
  return { tag: outcome(property, exit), requests }
}

/** A value as the simulator records it in a route, if it were sent (only strings and numbers may be). */
const param = (value: unknown): string =>
  typeof value === "string" || typeof value === "number" ? String(value) : "<not sendable>"

/** A refused input made no request; an accepted one made exactly the intended ones. */
const expectRoute = (
  property: string,
  result: { readonly tag: string; readonly requests: ReadonlyArray<GithubSimulator.RecordedRequest> },
  route: string,
  params: ReadonlyArray<string>
) => {
  if (result.tag === "InvalidArgument") {
    assert.strictEqual(result.requests.length, 0, "a refused input reached GitHub")
    return
  }
  const off = result.requests.filter((r) => r.route !== route || JSON.stringify(r.params) !== JSON.stringify(params))
  figure(property)["off-route requests"] += off.length
  assert.deepStrictEqual(off.map((r) => `${r.method} ${r.path}`), [], `intended ${route} with ${params}`)
  assert.isAbove(result.requests.length, 0)
}

// --- arbitraries ---------------------------------------------------------------------------------------------------

const tricky = fc.constantFrom(
  "",
  " ",
  ".",
  "..",
  "a/b",
  "../app",
  "%2F",
  "%2e%2e",
  "a%2Fb",
  "a?b",
  "a#b",
  "a b",
  " octo-org",
  "octo-org\n",
  "a\u0000b",
  "a\\b",
  "\\",
  "ä",
  "😀",
  "a%",
  "-a",
  "a-",
  "a--b",
  "a_",
  "_",
  "0",
  "x".repeat(100),
  "x".repeat(101),
  "octo-org",
  "OCTO-ORG",
  "octocat",
  "octo-enterprise",
  "hello-world",
  "a.b",
  "x_y",
  "Mixed-Case",
  "{org}",
  "${org}",
  "a;b",
  "a&b=c",
  "a+b",
  "..a",
  "a..b",
  "<script>"
)

const name = fc.oneof(
  tricky,
  fc.string({ maxLength: 110 }),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,30}$/)
)

/** Values whose String() throws or lies: a validator that prints its input must not run their code. */
const hostile = fc.constantFrom<unknown>(
  { toString: false },
  { toString: () => "octo-org" },
  {
    toString: () => {
      throw new Error("boom")
    }
  },
  Object.create(null),
  Symbol("octo-org"),
  10n,
  null,
  undefined,
  [],
  ["octo-org"],
  new Date(Number.NaN)
)

/** What a JavaScript caller might pass where a string is typed. */
const anyName: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: name },
  { weight: 1, arbitrary: fc.oneof(hostile, fc.anything()) as fc.Arbitrary<unknown> as fc.Arbitrary<string> }
)

const anyId: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: -5, max: 8 }),
  fc.integer(),
  fc.double(),
  fc.constantFrom(0, -0, -1, 1.5, Number.NaN, Infinity, -Infinity, 2 ** 53, 2 ** 53 - 1, 2 ** 53 + 2, 1e21),
  fc.oneof(hostile, fc.anything()) as fc.Arbitrary<unknown> as fc.Arbitrary<number>
)

/** `getAccessToken` with the scope's cached token dropped first, so that the mint request is always made. */
const fresh = (scope: InstallationTokens.TokenScope) =>
  Effect.zipRight(Effect.ignore(client.tokens.invalidate(1, scope)), client.github.getAccessToken(1, scope))

const INSTALLATION = "GET /app/installations/{installation_id}"
const MINT = "POST /app/installations/{installation_id}/access_tokens"

// --- properties ----------------------------------------------------------------------------------------------------

describe("e2e: bad input", () => {
  test.prop([anyName], { numRuns: RUNS })(
    "org, user and enterprise names: InvalidArgument or the intended route",
    async (
      value
    ) => {
      const cases: ReadonlyArray<readonly [string, (github: Integration.Service) => Effect.Effect<unknown, unknown>]> =
        [
          ["GET /orgs/{org}/installation", (github) => github.getOrgInstallation(value)],
          ["GET /users/{username}/installation", (github) => github.getUserInstallation(value)],
          ["GET /enterprises/{enterprise}/installation", (github) => github.getEnterpriseInstallation(value)]
        ]
      for (const [route, call] of cases) {
        expectRoute("account names", await attempt("account names", call(client.github)), route, [param(value)])
      }
    }
  )

  test.prop([anyName, anyName], { numRuns: RUNS })("owner/repo names: InvalidArgument or the intended route", async (
    owner,
    repo
  ) => {
    const route = "GET /repos/{owner}/{repo}/installation"
    const params = [param(owner), param(repo)]
    expectRoute(
      "owner/repo",
      await attempt("owner/repo", client.github.getRepoInstallation(owner, repo)),
      route,
      params
    )
    expectRoute("owner/repo", await attempt("owner/repo", client.github.getInstallation(owner, repo)), route, params)
  })

  test.prop([anyId], { numRuns: RUNS })("installation ids: InvalidArgument or the intended route", async (id) => {
    const property = "installation ids"
    const { github, tokens } = client
    const lazy = Effect.flatMap(github.withLazy(true).getAppInstallation(id), (ref) => ref.get)
    expectRoute(property, await attempt(property, github.getAppInstallation(id)), INSTALLATION, [param(id)])
    expectRoute(property, await attempt(property, lazy), INSTALLATION, [param(id)])
    expectRoute(
      property,
      await attempt(property, Effect.flatMap(github.installation(id), (r) => r.get)),
      INSTALLATION,
      [
        param(id)
      ]
    )
    // a fresh scope each time, so the cache cannot hide a request
    const scope = { repositoryIds: [1_000_001 + Math.floor(Math.random() * 1e6)] }
    expectRoute(property, await attempt(property, tokens.mint(id)), MINT, [param(id)])
    expectRoute(property, await attempt(property, github.getAccessToken(id, scope)), MINT, [param(id)])
  })

  const level = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("read", "write", "admin") },
    { weight: 1, arbitrary: fc.oneof(fc.constantFrom("READ", "owner", "", "none"), fc.anything()) }
  )
  const permissionName = fc.oneof(
    fc.constantFrom("contents", "issues", "metadata", "pull_requests", "checks", "administration", "single_file"),
    fc.stringMatching(/^[a-z][a-z0-9]{0,8}(_[a-z0-9]{1,5})?$/),
    tricky,
    fc.constantFrom("__proto__", "constructor", "toString", "Contents", "pull-requests")
  )
  const permissions = fc.oneof(
    { weight: 6, arbitrary: fc.dictionary(permissionName, level, { maxKeys: 5 }) },
    { weight: 1, arbitrary: fc.anything() }
  )

  test.prop([permissions], { numRuns: RUNS })("permission maps: InvalidArgument or a mint asking exactly them", async (
    map
  ) => {
    const property = "permission maps"
    const scope = { permissions: map as Record<string, "read"> }
    const result = await attempt(property, fresh(scope))
    expectRoute(property, result, MINT, ["1"])
    if (result.tag !== "InvalidArgument") {
      const asked = Object.entries((map ?? {}) as object).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      const body = result.requests[0]!.body as { permissions?: Record<string, string> } | undefined
      assert.deepStrictEqual(Object.entries(body?.permissions ?? {}), asked)
      assert.oneOf(result.tag, ["success", "GithubValidationFailed"])
    }
  })

  const scopes = fc.oneof(
    fc.anything(),
    hostile,
    fc.record({ permissions: fc.oneof(hostile, fc.anything()) }),
    fc.record({ repositories: fc.oneof(hostile, fc.anything(), fc.constant({ length: 0 })) }),
    fc.record({ repositoryIds: fc.oneof(hostile, fc.anything(), fc.constant({ length: 0 })) })
  )

  test.prop([scopes], { numRuns: RUNS })("whole token scopes: InvalidArgument or a mint", async (scope) => {
    const property = "token scopes (anything)"
    const call = () => fresh(scope as InstallationTokens.TokenScope)
    const result = await attempt(property, Effect.suspend(call))
    expectRoute(property, result, MINT, ["1"])
    assert.oneOf(result.tag, ["success", "InvalidArgument", "GithubValidationFailed"])
    // a scope of the wrong shape is refused, never read as "the whole installation"
    const record = scope as Record<string, unknown> | null
    const wrongShape = scope !== undefined && (
      typeof scope !== "object" || record === null ||
      (record.permissions !== undefined &&
        (typeof record.permissions !== "object" || record.permissions === null ||
          Array.isArray(record.permissions))) ||
      (record.repositories !== undefined && !Array.isArray(record.repositories)) ||
      (record.repositoryIds !== undefined && !Array.isArray(record.repositoryIds))
    )
    if (wrongShape) assert.strictEqual(result.tag, "InvalidArgument")
  })

  const repositoryName = fc.oneof(
    fc.constantFrom("hello-world", "docs", "a.b", "x_y", "Mixed-Case", "mixed-case", "not-there"),
    anyName
  )
  const repositoryIds = fc.oneof(
    fc.array(fc.oneof(fc.constantFrom(1_000_001, 1_000_002, 1_000_005), anyId), { maxLength: 4 }),
    fc.constant(Array.from({ length: 501 }, (_, i) => 1_000_001 + i)),
    fc.anything() as fc.Arbitrary<unknown> as fc.Arbitrary<Array<number>>
  )
  const repositoryNames = fc.oneof(
    fc.array(repositoryName, { maxLength: 5 }),
    fc.constant(Array.from({ length: 501 }, (_, i) => `repo-${i}`)),
    fc.anything() as fc.Arbitrary<unknown> as fc.Arbitrary<Array<string>>
  )

  test.prop([fc.option(repositoryNames, { nil: undefined }), fc.option(repositoryIds, { nil: undefined })], {
    numRuns: RUNS
  })("repository lists: InvalidArgument or a mint narrowed to exactly them", async (repositories, ids) => {
    const property = "repository lists"
    const result = await attempt(property, fresh({ repositories, repositoryIds: ids }))
    expectRoute(property, result, MINT, ["1"])
    if (result.tag !== "InvalidArgument") {
      const body = result.requests[0]!.body as { repositories?: Array<string>; repository_ids?: Array<number> }
      const names = [...new Set((repositories ?? []).map((n) => n.toLowerCase()))].sort()
      assert.deepStrictEqual(body?.repositories ?? [], names)
      assert.deepStrictEqual(body?.repository_ids ?? [], [...new Set(ids ?? [])].sort((a, b) => a - b))
      assert.oneOf(result.tag, ["success", "GithubValidationFailed"])
    }
  })

  // --- Link headers, against a fake client -------------------------------------------------------------------------

  const origin = "https://api.github.test"
  const target = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom(
      `${origin}/app/installations?page=2`,
      "/app/installations?page=2",
      "?page=2",
      "page=2",
      "//evil.example/app/installations",
      `${origin}@evil.example/`,
      `https://evil.example/${origin}/`,
      "http://api.github.test/app/installations?page=2",
      "https://api.github.test:444/x",
      "HTTPS://API.GITHUB.TEST/app/installations?page=3",
      "https://api.github.test./x",
      "javascript:alert(1)",
      "data:text/plain,x",
      "file:///etc/passwd",
      "\\\\evil.example\\x",
      "/\\evil.example/x",
      "https:evil.example",
      "https://api.github.test%2F@evil.example",
      " https://evil.example",
      "",
      "<",
      ">"
    ),
    fc.string({ maxLength: 40 })
  )
  const link = fc.oneof(
    target.map((t) => `<${t}>; rel="next"`),
    fc.tuple(target, target).map(([a, b]) => `<${a}>; rel="prev", <${b}>; rel="next"`),
    fc.tuple(target, target).map(([a, b]) => `<${a}>; rel="next", <${b}>; rel="next"`),
    target.map((t) => `<${t}>; rel=next`),
    target.map((t) => `<${t}>;rel="next last"`),
    target.map((t) => `<${t}>; REL="NEXT"`),
    fc.string({ maxLength: 60 }),
    fc.string({ unit: "binary", maxLength: 60 })
  )
  // what a header can carry on the wire (latin-1, no CR, LF or NUL): anything else never reaches a client
  // eslint-disable-next-line no-control-regex
  const wireSafe = (value: string) => value.replace(/[\r\n\0]|[^\u0000-\u00ff]/g, "")

  test.prop([fc.array(link, { minLength: 1, maxLength: 6 }), fc.boolean()], { numRuns: 300 })(
    "Link headers: never a request to another origin, never a defect",
    async (links, wrapped) => {
      const property = "Link headers (fake client)"
      const seen: Array<URL> = []
      const fake = HttpClient.make((request, url) =>
        Effect.sync(() => {
          seen.push(url)
          const header = wireSafe(links[seen.length - 1] ?? "")
          const items = [{ id: seen.length }]
          return HttpClientResponse.fromWeb(
            request,
            new Response(JSON.stringify(wrapped ? { total_count: 99, items } : items), {
              headers: { "content-type": "application/json", ...(header === "" ? {} : { link: header }) }
            })
          )
        })
      )
      const program = Effect.flatMap(
        HttpRequester.make({ ...unspaced, baseUrl: origin, retry: false }),
        (requester) =>
          Stream.runCollect(
            requester.paginate({ method: "GET", path: "/app/installations" }, Schema.Struct({ id: Schema.Number }))
              .pipe(
                Stream.take(20)
              )
          )
      ).pipe(Effect.provideService(HttpClient.HttpClient, fake))
      const exit = await Effect.runPromise(Effect.exit(program))
      const tag = outcome(property, exit)
      const off = seen.filter((url) => url.origin !== origin)
      figure(property)["off-route requests"] += off.length
      assert.deepStrictEqual(off.map(String), [])
      assert.oneOf(tag, ["success", "GithubUnexpectedStatus"])
      if (Exit.isSuccess(exit)) assert.strictEqual(Chunk.size(exit.value), seen.length)
    }
  )

  // --- private keys and base URLs ----------------------------------------------------------------------------------

  let pem = ""
  beforeAll(() => {
    pem = Redacted.value(sim.app.privateKey)
  })

  const edit = fc.oneof(
    fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
    fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: fc.string({ maxLength: 8 }) }),
    fc.record({ kind: fc.constant("flip" as const), at: fc.nat() }),
    fc.record({
      kind: fc.constant("newlines" as const),
      to: fc.constantFrom("\\n", " ", "", "\r\n", "\n\n", "\\r\\n")
    }),
    fc.record({ kind: fc.constant("quote" as const), quote: fc.constantFrom("\"", "'", "`", "\"'") }),
    fc.record({
      kind: fc.constant("label" as const),
      label: fc.constantFrom("PRIVATE KEY", "EC PRIVATE KEY", "PUBLIC KEY", "OPENSSH PRIVATE KEY", "CERTIFICATE", "X")
    }),
    fc.record({ kind: fc.constant("base64" as const) }),
    fc.record({ kind: fc.constant("duplicate" as const), at: fc.nat() })
  )
  type Edit = typeof edit extends fc.Arbitrary<infer A> ? A : never
  const apply = (text: string, e: Edit): string => {
    const at = "at" in e ? e.at % (text.length + 1) : 0
    switch (e.kind) {
      case "truncate":
        return text.slice(0, at)
      case "delete":
        return text.slice(0, at) + text.slice(at + e.length)
      case "insert":
        return text.slice(0, at) + e.text + text.slice(at)
      case "flip": {
        const c = text[at]
        return c === undefined ? text : text.slice(0, at) + (c === "A" ? "B" : "A") + text.slice(at + 1)
      }
      case "newlines":
        return text.replace(/\n/g, e.to)
      case "quote":
        return `${e.quote}${text}${e.quote}`
      case "label":
        return text.replace(/RSA PRIVATE KEY/g, e.label)
      case "base64":
        return Buffer.from(text).toString("base64")
      case "duplicate": {
        const lines = text.split("\n")
        const i = at % lines.length
        return [...lines.slice(0, i + 1), ...lines.slice(i)].join("\n")
      }
    }
  }
  const privateKey = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.array(edit, { minLength: 1, maxLength: 3 }).map((edits) => ({ edits, raw: undefined }))
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }).map((raw) => ({ edits: [], raw })) },
    { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 200 }).map((raw) => ({ edits: [], raw })) }
  )

  test.prop([privateKey], { numRuns: 300 })(
    "private keys: AppAuth.make gives PrivateKeyError or success, never a defect, never key text",
    async ({ edits, raw }) => {
      const property = "private keys (AppAuth.make)"
      const text = raw ?? edits.reduce(apply, pem)
      const exit = await Effect.runPromise(Effect.exit(AppAuth.make({ appId: sim.app.id, privateKey: text })))
      const tag = outcome(property, exit)
      assert.oneOf(tag, ["success", "PrivateKeyError"])
      if (Exit.isFailure(exit)) {
        const leaks = scan([render(exit), Cause.pretty(exit.cause)], new Secrets().privateKey(pem))
        assert.deepStrictEqual(leaks, [])
      }
    }
  )

  const secret = fc.stringMatching(/^[A-Za-z0-9/+_-]{24,40}$/)
  const baseUrl = fc.oneof(
    fc.webUrl({ withQueryParameters: true, withFragments: true, authoritySettings: { withUserInfo: true } }),
    fc.string({ maxLength: 60 }),
    fc.constantFrom(
      "github.com",
      "api.github.com",
      "https://github.example.com",
      "http://github.example.com",
      "http://127.0.0.1:8080",
      "http://localhost",
      "https://[::1]:3000",
      "http://[::1]",
      "ftp://github.example.com",
      "javascript:alert(1)",
      "https://host?x=1",
      "https://host#f",
      "https://host/api/v3/",
      "//host",
      "https:",
      "https://",
      " ",
      "\u0000",
      "https://host:99999",
      "https://ex ample.com",
      "https://例え.jp",
      "HTTPS://GITHUB.COM",
      "https://host/%2e%2e/",
      "https://host/../api",
      "http://127.0.0.1.evil.example",
      "http://localhost.evil.example"
    ),
    fc.tuple(fc.constantFrom("https://", "http://", ""), secret, fc.constantFrom("github.example.com", "127.0.0.1"))
      .map(([scheme, s, host]) => `${scheme}x-access-token:${s}@${host}`)
  )

  test.prop([baseUrl, fc.option(fc.anything(), { nil: undefined })], { numRuns: 300 })(
    "base URLs: HttpRequester.make gives InvalidArgument or a client on a safe origin, never echoing credentials",
    async (url, timeout) => {
      const property = "base URLs (HttpRequester.make)"
      const seen: Array<URL> = []
      const fake = HttpClient.make((request, u) =>
        Effect.sync(() => {
          seen.push(u)
          return HttpClientResponse.fromWeb(
            request,
            new Response("{}", { headers: { "content-type": "application/json" } })
          )
        })
      )
      const program = Effect.flatMap(
        HttpRequester.make({ ...unspaced, baseUrl: url, timeout: timeout as undefined, retry: false }),
        (requester) => Effect.as(requester.requestJson({ method: "GET", path: "/app" }), requester.baseUrl)
      ).pipe(Effect.provideService(HttpClient.HttpClient, fake))
      const exit = await Effect.runPromise(Effect.exit(program))
      const tag = outcome(property, exit)
      assert.oneOf(tag, ["success", "InvalidArgument"])
      if (Exit.isSuccess(exit)) {
        const resolved = new URL(exit.value)
        assert.isTrue(
          resolved.protocol === "https:" || /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/.test(resolved.hostname),
          `plain http to ${resolved.hostname}`
        )
        assert.strictEqual(resolved.username + resolved.password + resolved.search + resolved.hash, "")
        assert.deepStrictEqual(seen.map((u) => u.origin), [resolved.origin])
        assert.strictEqual(seen[0]!.pathname, `${resolved.pathname.replace(/\/$/, "")}/app`)
      } else {
        assert.strictEqual(seen.length, 0)
        const credential = /x-access-token:(.{24,40})@/.exec(url)?.[1]
        if (credential !== undefined) assert.notInclude(render(exit), credential)
      }
    }
  )
})
