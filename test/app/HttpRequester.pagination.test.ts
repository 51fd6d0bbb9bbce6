import type * as HttpRequester from "@effect-github/app/HttpRequester"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { fake, json, requester, type Seen, tokenCredentials } from "./HttpRequesterFake.js"

const Repo = Schema.Struct({ id: Schema.Number })
const all = Array.from({ length: 5 }, (_, i) => ({ id: i + 1, name: `r${i + 1}` }))

/** A list endpoint over `all`, paged like GitHub: `Link` with next/last, none on the last page. */
const listing = (wrap: (items: Array<unknown>) => unknown, origin = "https://api.github.com") => (seen: Seen) => {
  const perPage = Number(seen.url.searchParams.get("per_page") ?? 30)
  const page = Number(seen.url.searchParams.get("page") ?? 1)
  const last = Math.ceil(all.length / perPage)
  const link = (n: number) => `<${origin}${seen.url.pathname}?per_page=${perPage}&page=${n}>`
  const links = page < last
    ? [`${link(page + 1)}; rel="next"`, `${link(last)}; rel="last"`]
    : [`${link(1)}; rel="first"`]
  return json(wrap(all.slice((page - 1) * perPage, page * perPage)), { headers: { link: links.join(", ") } })
}

const collect = <A, E, R>(stream: Stream.Stream<A, E, R>) => Effect.map(Stream.runCollect(stream), Chunk.toArray)

describe("HttpRequester pagination", () => {
  it.effect("follows Link rel=next over 3 pages of a plain array, and no further", () =>
    Effect.gen(function*() {
      const client = fake(listing((items) => items))
      const github = (yield* requester(client)).withCredentials(tokenCredentials("t"))
      const repos = yield* collect(
        github.paginate({ method: "GET", path: "/installation/repositories" }, Repo, { perPage: 2 })
      )
      assert.deepStrictEqual(repos, [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }, { id: 5 }])
      assert.deepStrictEqual(client.seen.map((seen) => seen.url.href), [
        "https://api.github.com/installation/repositories?per_page=2",
        "https://api.github.com/installation/repositories?per_page=2&page=2",
        "https://api.github.com/installation/repositories?per_page=2&page=3"
      ])
      assert.isTrue(client.seen.every((seen) => seen.headers.authorization === "token t"))
    }))

  it.effect("unwraps { total_count, repositories } bodies, with or without key, exposing total_count", () =>
    Effect.gen(function*() {
      const client = fake(
        listing((items) => ({ total_count: all.length, repository_selection: "all", repositories: items }))
      )
      const github = yield* requester(client, { perPage: 2 })
      const request: HttpRequester.Request = { method: "GET", path: "/installation/repositories" }
      const pages = yield* collect(github.paginatePages(request, Repo, { key: "repositories" }))
      assert.deepStrictEqual(pages.map((page) => page.items.map((item) => item.id)), [[1, 2], [3, 4], [5]])
      assert.isTrue(pages.every((page) => Option.getOrNull(page.totalCount) === 5))
      const unkeyed = yield* collect(github.paginate(request, Repo))
      assert.deepStrictEqual(unkeyed.map((item) => item.id), [1, 2, 3, 4, 5])
      assert.strictEqual(client.seen[0]!.url.searchParams.get("per_page"), "2")
      assert.strictEqual(client.seen.length, 6)
    }))

  it.effect("sets the layer's per_page, keeps the caller's query, and a plain array has no total_count", () =>
    Effect.gen(function*() {
      const client = fake(listing((items) => items))
      const github = yield* requester(client)
      const pages = yield* collect(
        github.paginatePages({ method: "GET", path: "/app/installations", query: { outdated: "x" } }, Repo)
      )
      assert.strictEqual(pages.length, 1)
      assert.isTrue(Option.isNone(pages[0]!.totalCount))
      assert.strictEqual(client.seen[0]!.url.search, "?outdated=x&per_page=30")
    }))

  it.effect("is lazy: taking the first items asks for one page only", () =>
    Effect.gen(function*() {
      const client = fake(listing((items) => items))
      const github = yield* requester(client)
      const first = yield* collect(
        Stream.take(github.paginate({ method: "GET", path: "/app/installations" }, Repo, { perPage: 2 }), 2)
      )
      assert.deepStrictEqual(first, [{ id: 1 }, { id: 2 }])
      assert.strictEqual(client.seen.length, 1)
    }))

  it.effect("a next link to another origin stops with an error after the page's items", () =>
    Effect.gen(function*() {
      const client = fake(listing((items) => items, "https://evil.example.com"))
      const github = (yield* requester(client)).withCredentials(tokenCredentials("t"))
      const stream = github.paginate({ method: "GET", path: "/app/installations" }, Repo, { perPage: 2 })
      const seen: Array<number> = []
      const error = yield* Effect.flip(Stream.runForEach(stream, (repo) => Effect.sync(() => seen.push(repo.id))))
      assert.deepStrictEqual(seen, [1, 2])
      assert.strictEqual(error._tag, "GithubUnexpectedStatus")
      if (error._tag === "GithubUnexpectedStatus") assert.include(error.hint, "origin")
      assert.strictEqual(client.seen.length, 1)
    }))

  it.effect("a mismatching item reports its path inside the wrapper", () =>
    Effect.gen(function*() {
      const github = yield* requester(fake(() => json({ total_count: 2, repositories: [{ id: 1 }, { id: "2" }] })))
      const error = yield* Effect.flip(
        collect(github.paginate({ method: "GET", path: "/installation/repositories" }, Repo, { key: "repositories" }))
      )
      assert.deepInclude(error, {
        _tag: "GithubDecodeError",
        issues: [{ path: "$.repositories[1].id", expected: "number" }]
      })
    }))

  it.effect("a body of the wrong shape, or a bad perPage, fails clearly", () =>
    Effect.gen(function*() {
      const github = yield* requester(fake(() => json({ a: [], b: [] })))
      const ambiguous = yield* Effect.flip(collect(github.paginate({ method: "GET", path: "/x" }, Repo)))
      assert.strictEqual(ambiguous._tag, "GithubDecodeError")
      const missing = yield* Effect.flip(collect(github.paginate({ method: "GET", path: "/x" }, Repo, { key: "c" })))
      assert.deepInclude(missing, { _tag: "GithubDecodeError", issues: [{ path: "$.c", expected: "an array" }] })
      const perPage = yield* Effect.flip(collect(github.paginate({ method: "GET", path: "/x" }, Repo, { perPage: 0 })))
      assert.deepInclude(perPage, { _tag: "InvalidArgument", argument: "perPage" })
    }))
})

describe("HttpRequester redirects", () => {
  const redirecting = (location: string, status = 301) => (seen: Seen) =>
    seen.url.pathname === "/repos/old/name"
      ? new Response(null, { status, headers: { location } })
      : json({ id: 7 }, { headers: { "x-ratelimit-remaining": "1", "x-ratelimit-reset": "9" } })

  it.effect("follows a same-origin redirect with authorization", () =>
    Effect.gen(function*() {
      const client = fake(redirecting("https://api.github.com/repositories/7"))
      const github = (yield* requester(client)).withCredentials(tokenCredentials("t"))
      const repo = yield* github.request({ method: "GET", path: "/repos/old/name" }, Repo)
      assert.deepStrictEqual(repo, { id: 7 })
      assert.deepStrictEqual(client.seen.map((seen) => [seen.url.href, seen.headers.authorization]), [
        ["https://api.github.com/repos/old/name", "token t"],
        ["https://api.github.com/repositories/7", "token t"]
      ])
    }))

  it.effect("follows a cross-origin redirect without authorization, and keeps its rate limits out", () =>
    Effect.gen(function*() {
      const client = fake(redirecting("https://objects.example.com/blob/7", 302))
      const github = (yield* requester(client)).withCredentials(tokenCredentials("t"))
      yield* github.request({ method: "GET", path: "/repos/old/name" }, Repo)
      assert.strictEqual(client.seen[1]!.url.href, "https://objects.example.com/blob/7")
      assert.isUndefined(client.seen[1]!.headers.authorization)
      assert.isTrue(Option.isNone(yield* github.rateLimit()))
    }))

  it.effect("a caller's own authorization or cookie header is not sent to another origin either", () =>
    Effect.gen(function*() {
      const client = fake(redirecting("https://objects.example.com/blob/7", 302))
      const github = yield* requester(client)
      yield* github.request({
        method: "GET",
        path: "/repos/old/name",
        headers: { Authorization: "Basic c2VjcmV0", Cookie: "a=b", "X-Kept": "1" }
      }, Repo)
      assert.strictEqual(client.seen[0]!.headers.authorization, "Basic c2VjcmV0")
      assert.isUndefined(client.seen[1]!.headers.authorization)
      assert.isUndefined(client.seen[1]!.headers.cookie)
      assert.strictEqual(client.seen[1]!.headers["x-kept"], "1")
    }))

  it.effect("keeps method and body on 307/308", () =>
    Effect.gen(function*() {
      const client = fake((seen) =>
        seen.url.pathname === "/repos/old/name"
          ? new Response(null, { status: 307, headers: { location: "/repositories/7" } })
          : json({ id: 7 })
      )
      const github = yield* requester(client)
      yield* github.requestJson({ method: "POST", path: "/repos/old/name", body: { a: 1 } })
      assert.deepStrictEqual(client.seen.map((seen) => [seen.method, seen.url.pathname, seen.body]), [
        ["POST", "/repos/old/name", "{\"a\":1}"],
        ["POST", "/repositories/7", "{\"a\":1}"]
      ])
    }))

  it.effect("refuses a downgrade to http and redirect loops", () =>
    Effect.gen(function*() {
      const downgrade = fake(redirecting("http://objects.example.com/blob/7"))
      const github = (yield* requester(downgrade)).withCredentials(tokenCredentials("t"))
      const error = yield* Effect.flip(github.request({ method: "GET", path: "/repos/old/name" }, Repo))
      assert.deepInclude(error, { _tag: "GithubUnexpectedStatus", status: 301 })
      assert.strictEqual(downgrade.seen.length, 1)

      const loop = fake((seen) => new Response(null, { status: 302, headers: { location: `${seen.url.pathname}x` } }))
      const looping = yield* requester(loop)
      const loopError = yield* Effect.flip(looping.requestJson({ method: "GET", path: "/a" }))
      assert.deepInclude(loopError, { _tag: "GithubUnexpectedStatus", status: 302 })
      assert.strictEqual(loop.seen.length, 4)
    }))
})
