import * as HttpRequester from "@effect-github/app/HttpRequester"
import { NodeHttpTransport } from "@effect-github/node"
import * as HttpClient from "@effect/platform/HttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type * as net from "node:net"
import * as netModule from "node:net"
import * as os from "node:os"
import * as path from "node:path"

interface Server {
  readonly port: number
  readonly url: string
  /** Every TCP connection the server accepted, open or closed. */
  readonly sockets: Array<net.Socket>
  readonly open: () => number
  readonly allClosed: () => Promise<void>
}

const serve = (
  handler: http.RequestListener,
  tls?: { readonly key: string; readonly cert: string }
): Effect.Effect<Server, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Server & { readonly server: http.Server }>((resume) => {
      const server = tls === undefined ? http.createServer(handler) : https.createServer(tls, handler)
      const sockets: Array<net.Socket> = []
      const closed = new WeakSet<net.Socket>()
      server.on("connection", (socket: net.Socket) => {
        sockets.push(socket)
        socket.on("close", () => closed.add(socket))
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as net.AddressInfo).port
        resume(Effect.succeed({
          server,
          port,
          url: `${tls === undefined ? "http" : "https"}://127.0.0.1:${port}`,
          sockets,
          open: () => sockets.filter((socket) => !closed.has(socket)).length,
          allClosed: () =>
            Promise.all(
              sockets.map((socket) =>
                closed.has(socket) ? undefined : new Promise<void>((done) => socket.once("close", () => done()))
              )
            ).then(() => undefined)
        }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const json = (res: http.ServerResponse, body: unknown, status = 200, headers: http.OutgoingHttpHeaders = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

const requesterLayer = (options: HttpRequester.Options, transport?: NodeHttpTransport.Options) =>
  HttpRequester.layer({ secondsBetweenRequests: 0, secondsBetweenWrites: 0, ...options }).pipe(
    Layer.provide(NodeHttpTransport.layer(transport))
  )

const requester = (options: HttpRequester.Options, transport?: NodeHttpTransport.Options) =>
  Effect.map(Layer.build(requesterLayer(options, transport)), Context.get(HttpRequester.HttpRequester))

const token = (value: string): HttpRequester.Credentials => ({
  identity: "installation:1",
  authorization: () => Effect.succeed(Redacted.make(`token ${value}`)),
  shouldRefresh: () => false
})

const promise = <A>(f: () => Promise<A>) => Effect.promise(f)

describe("NodeHttpTransport with HttpRequester over loopback", () => {
  it.scopedLive("sends GitHub's headers and reads rate limits", () =>
    Effect.gen(function*() {
      const seen: Array<http.IncomingHttpHeaders> = []
      const server = yield* serve((req, res) => {
        seen.push(req.headers)
        json(res, { id: 1 }, 200, { "x-ratelimit-remaining": "4999", "x-ratelimit-reset": "2000000000" })
      })
      const github = (yield* requester({ baseUrl: server.url })).withCredentials(token("ghs_x"))
      assert.deepStrictEqual((yield* github.requestJson({ method: "GET", path: "/app" })).body, { id: 1 })
      assert.strictEqual(seen[0]!.authorization, "token ghs_x")
      assert.strictEqual(seen[0]!.accept, "application/vnd.github+json")
      assert.strictEqual(seen[0]!["x-github-api-version"], "2022-11-28")
      assert.strictEqual(seen[0]!["user-agent"], "effect-github/0.1.0")
      assert.isUndefined(seen[0]!.traceparent)
      assert.strictEqual(Option.getOrThrow(yield* github.rateLimit()).remaining, 4999)
    }))

  it.scopedLive("the transport itself does not follow redirects", () =>
    Effect.gen(function*() {
      const server = yield* serve((req, res) => {
        res.writeHead(302, { location: "/elsewhere" })
        res.end()
      })
      const ctx = yield* Layer.build(NodeHttpTransport.layer())
      const response = yield* Context.get(ctx, HttpClient.HttpClient).get(`${server.url}/start`)
      assert.strictEqual(response.status, 302)
      assert.strictEqual(server.sockets.length, 1)
    }))

  it.scopedLive("a redirect to another host is followed without authorization; the same host keeps it", () =>
    Effect.gen(function*() {
      const other: Array<http.IncomingHttpHeaders> = []
      const target = yield* serve((req, res) => {
        other.push(req.headers)
        json(res, { id: 2 })
      })
      const own: Array<[string, string | undefined]> = []
      const server = yield* serve((req, res) => {
        own.push([req.url!, req.headers.authorization])
        if (req.url === "/repos/old/name") {
          res.writeHead(301, { location: "/repositories/1" })
          res.end()
        } else if (req.url === "/repositories/1") {
          res.writeHead(302, { location: `http://localhost:${target.port}/blob` })
          res.end()
        } else json(res, {}, 404)
      })
      const github = (yield* requester({ baseUrl: server.url })).withCredentials(token("ghs_secret"))
      const response = yield* github.requestJson({ method: "GET", path: "/repos/old/name" })
      assert.deepStrictEqual(response.body, { id: 2 })
      assert.deepStrictEqual(own, [["/repos/old/name", "token ghs_secret"], ["/repositories/1", "token ghs_secret"]])
      assert.strictEqual(other.length, 1)
      assert.isUndefined(other[0]!.authorization)
    }))

  it.scopedLive("connection refused is a Connection error that was not processed", () =>
    Effect.gen(function*() {
      const port = yield* promise(() =>
        new Promise<number>((resolve) => {
          const probe = netModule.createServer().listen(0, "127.0.0.1", () => {
            const { port } = probe.address() as net.AddressInfo
            probe.close(() => resolve(port))
          })
        })
      )
      const github = yield* requester({ baseUrl: `http://127.0.0.1:${port}`, retry: false })
      const error = yield* Effect.flip(github.requestJson({ method: "POST", path: "/x", body: {} }))
      assert.deepInclude(error, {
        _tag: "GithubTransportError",
        reason: "Connection",
        notProcessed: true,
        method: "POST"
      })
    }))

  it.scopedLive("a slow server times out, and the connection is dropped", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {/* never answers */})
      const github = yield* requester({ baseUrl: server.url, timeout: "200 millis", retry: false })
      const error = yield* Effect.flip(github.requestJson({ method: "GET", path: "/slow" }))
      assert.deepInclude(error, { _tag: "GithubTransportError", reason: "Timeout" })
      yield* promise(() => server.allClosed())
      assert.strictEqual(server.open(), 0)
    }))

  it.scopedLive("a body that stops half-way times out too (the timeout covers the whole exchange)", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, res) => {
        res.writeHead(200, { "content-type": "application/json", "content-length": "100" })
        res.write("[1,")
      })
      const github = yield* requester({ baseUrl: server.url, timeout: "200 millis", retry: false })
      const error = yield* Effect.flip(github.requestJson({ method: "GET", path: "/half" }))
      assert.deepInclude(error, { _tag: "GithubTransportError", reason: "Timeout" })
      yield* promise(() => server.allClosed())
      assert.strictEqual(server.open(), 0)
    }))

  it.scopedLive("interrupting the caller aborts the request", () =>
    Effect.gen(function*() {
      const server = yield* serve(() => {/* never answers */})
      const github = yield* requester({ baseUrl: server.url })
      const fiber = yield* Effect.fork(github.requestJson({ method: "GET", path: "/slow" }))
      while (server.sockets.length === 0) yield* Effect.sleep("5 millis")
      yield* Fiber.interrupt(fiber)
      yield* promise(() => server.allClosed())
      assert.strictEqual(server.open(), 0)
    }))

  it.scopedLive("poolSize caps the connections to one origin", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, res) => setTimeout(() => json(res, {}), 50))
      const github = yield* requester({ baseUrl: server.url }, { poolSize: 2 })
      yield* Effect.all(Array.from({ length: 6 }, () => github.requestJson({ method: "GET", path: "/x" })), {
        concurrency: "unbounded"
      })
      assert.strictEqual(server.sockets.length, 2)
    }))

  it.scopedLive("closing the scope closes every connection", () =>
    Effect.gen(function*() {
      const server = yield* serve((_, res) => setTimeout(() => json(res, {}), 20))
      const scope = yield* Scope.make()
      const ctx = yield* Layer.buildWithScope(requesterLayer({ baseUrl: server.url }), scope)
      const github = Context.get(ctx, HttpRequester.HttpRequester)
      yield* Effect.all(Array.from({ length: 3 }, () => github.requestJson({ method: "GET", path: "/x" })), {
        concurrency: "unbounded"
      })
      // keep-alive: the connections stay open after the requests
      assert.strictEqual(server.open(), 3)
      yield* Scope.close(scope, Exit.void)
      yield* promise(() => server.allClosed())
      assert.strictEqual(server.open(), 0)
    }))

  it.scopedLive("bad options fail the layer with InvalidArgument", () =>
    Effect.gen(function*() {
      const build = (options: NodeHttpTransport.Options) => Effect.flip(Layer.build(NodeHttpTransport.layer(options)))
      assert.strictEqual((yield* build({ poolSize: 0 })).argument, "poolSize")
      assert.strictEqual((yield* build({ proxy: "socks5://127.0.0.1:1080" })).argument, "proxy")
      const missing = yield* build({ verify: "/nonexistent/ca.pem" })
      assert.strictEqual(missing.argument, "verify")
      assert.include(missing.message, "ENOENT")
      const notPem = path.join(os.tmpdir(), `not-a-ca-${process.pid}.txt`)
      fs.writeFileSync(notPem, "hello")
      yield* Effect.addFinalizer(() => Effect.sync(() => fs.rmSync(notPem, { force: true })))
      assert.include((yield* build({ verify: notPem })).message, "no PEM certificate")
    }))
})

const hasOpenssl = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
})()

/** A CA and a server certificate for 127.0.0.1 signed by it, made fresh for this run. */
const makeCertificates = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "effect-github-tls-"))
  const run = (...args: Array<string>) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" })
  run(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Test CA"
  )
  run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
  fs.writeFileSync(path.join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n")
  run(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.pem",
    "-days",
    "2",
    "-extfile",
    "ext.cnf"
  )
  const read = (name: string) => fs.readFileSync(path.join(dir, name), "utf8")
  return { dir, ca: path.join(dir, "ca.pem"), key: read("server.key"), cert: read("server.pem") }
}

describe.skipIf(!hasOpenssl)("NodeHttpTransport TLS", () => {
  const certificates = Effect.acquireRelease(
    Effect.sync(makeCertificates),
    ({ dir }) => Effect.sync(() => fs.rmSync(dir, { recursive: true, force: true }))
  )

  it.scopedLive("verifies by default, accepts a CA bundle path, or verify: false", () =>
    Effect.gen(function*() {
      const tls = yield* certificates
      const server = yield* serve((_, res) => json(res, { secure: true }), tls)
      const request = { method: "GET", path: "/app" } as const

      const strict = yield* requester({ baseUrl: server.url, retry: false })
      const error = yield* Effect.flip(strict.requestJson(request))
      assert.strictEqual(error._tag, "GithubTransportError")
      if (error._tag === "GithubTransportError") assert.include(error.description, "TLS certificate")

      const withCa = yield* requester({ baseUrl: server.url }, { verify: tls.ca })
      assert.deepStrictEqual((yield* withCa.requestJson(request)).body, { secure: true })

      const unverified = yield* requester({ baseUrl: server.url }, { verify: false })
      assert.deepStrictEqual((yield* unverified.requestJson(request)).body, { secure: true })
    }))
})

describe("NodeHttpTransport proxies", () => {
  /** A CONNECT proxy recording the targets it tunnels to. */
  const proxyServer = Effect.acquireRelease(
    Effect.async<{ readonly url: string; readonly targets: Array<string>; readonly server: http.Server }>((resume) => {
      const targets: Array<string> = []
      const server = http.createServer((_, res) => {
        res.writeHead(405)
        res.end()
      })
      server.on("connect", (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
        targets.push(req.url!)
        const [host, port] = req.url!.split(":")
        const upstream = netModule.connect(Number(port), host!, () => {
          client.write("HTTP/1.1 200 Connection Established\r\n\r\n")
          upstream.write(head)
          upstream.pipe(client)
          client.pipe(upstream)
        })
        upstream.on("error", () => client.destroy())
        client.on("error", () => upstream.destroy())
      })
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo
        resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, targets, server }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

  /** Runs `effect` (building a layer) with these proxy variables set, restoring the environment after. */
  const withEnv = <A, E, R>(env: Record<string, string>, effect: Effect.Effect<A, E, R>) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const names = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"]
        const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]))
        for (const name of names) delete process.env[name]
        Object.assign(process.env, env)
        return saved
      }),
      () => effect,
      (saved) =>
        Effect.sync(() => {
          for (const [name, value] of Object.entries(saved)) {
            if (value === undefined) delete process.env[name]
            else process.env[name] = value
          }
        })
    )

  it.scopedLive("an explicit proxy tunnels every request", () =>
    Effect.gen(function*() {
      const proxy = yield* proxyServer
      const server = yield* serve((_, res) => json(res, { via: "proxy" }))
      const github = yield* requester({ baseUrl: server.url }, { proxy: proxy.url, noProxy: "" })
      assert.deepStrictEqual((yield* github.requestJson({ method: "GET", path: "/x" })).body, { via: "proxy" })
      assert.deepStrictEqual(proxy.targets, [`127.0.0.1:${server.port}`])
    }))

  it.scopedLive("HTTP_PROXY from the environment is honoured, and NO_PROXY exempts hosts", () =>
    Effect.gen(function*() {
      const proxy = yield* proxyServer
      const server = yield* serve((_, res) => json(res, {}))
      const request = { method: "GET", path: "/x" } as const

      const viaEnv = yield* withEnv(
        { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url },
        requester({ baseUrl: server.url })
      )
      yield* viaEnv.requestJson(request)
      assert.strictEqual(proxy.targets.length, 1)

      const exempt = yield* withEnv(
        { HTTP_PROXY: proxy.url, NO_PROXY: "127.0.0.1" },
        requester({ baseUrl: server.url })
      )
      yield* exempt.requestJson(request)
      const off = yield* withEnv({ HTTP_PROXY: proxy.url }, requester({ baseUrl: server.url }, { proxy: false }))
      yield* off.requestJson(request)
      assert.strictEqual(proxy.targets.length, 1)
    }))
})
