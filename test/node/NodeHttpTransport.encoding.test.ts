import * as HttpRequester from "@effect-github/app/HttpRequester"
import { NodeHttpTransport } from "@effect-github/node"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as http from "node:http"
import type * as net from "node:net"
import * as zlib from "node:zlib"

const serve = (handler: http.RequestListener): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<http.Server>((resume) => {
      const server = http.createServer(handler)
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`))

const requester = (baseUrl: string, transport?: NodeHttpTransport.Options) =>
  Effect.map(
    Layer.build(
      HttpRequester.layer({ baseUrl, secondsBetweenRequests: 0, retry: false }).pipe(
        Layer.provide(NodeHttpTransport.layer(transport))
      )
    ),
    Context.get(HttpRequester.HttpRequester)
  )

const body = { items: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `repository-${i}` })) }

describe("NodeHttpTransport compression and body size (issue 12, fault 12)", () => {
  for (const [name, encode] of [["gzip", zlib.gzipSync], ["br", zlib.brotliCompressSync]] as const) {
    it.scopedLive(`sends Accept-Encoding and decodes a ${name} body`, () =>
      Effect.gen(function*() {
        const asked: Array<string | undefined> = []
        const url = yield* serve((req, res) => {
          asked.push(req.headers["accept-encoding"])
          res.writeHead(200, { "content-type": "application/json", "content-encoding": name })
          res.end(encode(Buffer.from(JSON.stringify(body))))
        })
        const github = yield* requester(url)
        assert.deepStrictEqual((yield* github.requestJson({ method: "GET", path: "/x" })).body, body)
        assert.strictEqual(asked[0], "gzip, br")
      }))
  }

  it.scopedLive("compression: false asks for none", () =>
    Effect.gen(function*() {
      const asked: Array<string | undefined> = []
      const url = yield* serve((req, res) => {
        asked.push(req.headers["accept-encoding"])
        res.writeHead(200, { "content-type": "application/json" })
        res.end(JSON.stringify(body))
      })
      const github = yield* requester(url, { compression: false })
      assert.deepStrictEqual((yield* github.requestJson({ method: "GET", path: "/x" })).body, body)
      assert.strictEqual(asked[0], undefined)
    }))

  it.scopedLive("a body above maxBodyBytes fails with a typed error, compressed or not", () =>
    Effect.gen(function*() {
      const big = Buffer.from(JSON.stringify({ text: "x".repeat(100_000) }))
      const url = yield* serve((req, res) => {
        const gzip = req.url === "/gzip"
        res.writeHead(200, { "content-type": "application/json", ...(gzip ? { "content-encoding": "gzip" } : {}) })
        res.end(gzip ? zlib.gzipSync(big) : big)
      })
      const github = yield* requester(url, { maxBodyBytes: 10_000 })
      for (const path of ["/plain", "/gzip"]) {
        const error = yield* Effect.flip(github.requestJson({ method: "GET", path }))
        assert.strictEqual(error._tag, "GithubTransportError")
        assert.include(error.message, "maxBodyBytes")
      }
    }))

  it.effect("maxBodyBytes must be a positive number of bytes", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.scoped(Layer.build(NodeHttpTransport.layer({ maxBodyBytes: -1 }))))
      assert.strictEqual(error._tag, "InvalidArgument")
    }))
})
