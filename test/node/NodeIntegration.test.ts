import { Integration } from "@effect-github/app"
import { NodeIntegration } from "@effect-github/node"
import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Exit, Layer, Redacted, Scope, Stream } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

const MINT = "POST /app/installations/{installation_id}/access_tokens"

const build = <E>(layer: Layer.Layer<NodeIntegration.Services, E>) =>
  Effect.flatMap(
    Effect.scope,
    (scope) =>
      Effect.flatMap(Layer.buildWithScope(layer, scope), (context) => Effect.provide(Integration.Integration, context))
  )

describe("NodeIntegration", () => {
  it.scopedLive("layer takes every PyGithub option", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 5 })
      const { url } = yield* sim.server
      const github = yield* build(NodeIntegration.layer({
        appId: sim.app.id,
        privateKey: sim.app.privateKey,
        baseUrl: url,
        timeout: "5 seconds",
        userAgent: "my-bot/1.0",
        perPage: 2,
        verify: true,
        retry: 2,
        poolSize: 4,
        secondsBetweenRequests: 0,
        secondsBetweenWrites: 0,
        jwtExpiry: "2 minutes",
        jwtIssuedAt: "30 seconds",
        jwtAlgorithm: "RS256",
        lazy: true
      }))
      assert.isTrue(github.lazy)
      const ref = yield* github.getAppInstallation(1)
      assert.strictEqual(ref.id, 1)
      assert.strictEqual(yield* sim.count("*"), 0, "lazy: no request for a lookup by id")
      const all = yield* Stream.runCollect(github.getInstallations())
      assert.strictEqual(all.length, 5)
      assert.strictEqual(yield* sim.count("GET /app/installations"), 3, "perPage 2: three pages")
      const requests = yield* sim.requests
      assert.isTrue(requests.every((request) => request.headers["user-agent"] === "my-bot/1.0"))
      const claims = JSON.parse(
        Buffer.from(Redacted.value(yield* github.createJwt()).split(".")[1]!, "base64url").toString()
      )
      assert.strictEqual(claims.exp - claims.iat, 150) // 2 minutes of life, issued 30 s back
    }))

  it.scopedLive("layerConfig reads the app from the environment, the key from a file, GHES from GITHUB_API_URL", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 2, pathPrefix: "/api/v3" })
      const { url } = yield* sim.server
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-github-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true })))
      const keyFile = Path.join(dir, "app.pem")
      Fs.writeFileSync(keyFile, Redacted.value(sim.app.privateKey), { mode: 0o600 })
      const env = ConfigProvider.fromMap(
        new Map([
          ["GITHUB_APP_CLIENT_ID", sim.app.clientId],
          ["GITHUB_APP_PRIVATE_KEY_FILE", keyFile],
          ["GITHUB_API_URL", url]
        ])
      )
      const github = yield* build(
        NodeIntegration.layerConfig({ secondsBetweenRequests: 0, secondsBetweenWrites: 0 }).pipe(
          Layer.provide(Layer.setConfigProvider(env))
        )
      )
      const app = yield* github.getApp()
      assert.strictEqual(app.id, sim.app.id)
      const token = yield* github.getAccessToken(2)
      assert.isTrue(Redacted.value(token.token).startsWith("ghs_"))
      assert.strictEqual(yield* sim.count(MINT), 1)
    }))

  it.effect("layerConfig without credentials fails with a ConfigError naming the variable", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(
        build(
          NodeIntegration.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map()))))
        )
          .pipe(Effect.scoped)
      )
      assert.isTrue(Exit.isFailure(exit))
      assert.include(String(exit), "GITHUB_APP_ID")
    }))

  it.scoped("a bad option fails the layer with its typed error before anything is sent", () =>
    Effect.gen(function*() {
      const sim = yield* GithubSimulator.make({ installationCount: 1 })
      const cases = [
        [{ poolSize: 0 }, "InvalidArgument"],
        [{ perPage: 101 }, "InvalidArgument"],
        [{ baseUrl: "ftp://github.example.com" }, "InvalidArgument"],
        [{ verify: "/no/such/ca.pem" }, "InvalidArgument"],
        [{ jwtExpiry: "11 minutes" }, "JwtError"],
        [{ privateKey: "-----BEGIN RSA PRIVATE KEY-----" }, "PrivateKeyError"]
      ] as const
      for (const [options, tag] of cases) {
        const error = yield* Effect.flip(
          Effect.scoped(build(NodeIntegration.layer({ appId: 1, privateKey: sim.app.privateKey, ...options })))
        )
        assert.strictEqual(error._tag, tag, JSON.stringify(options))
      }
      assert.strictEqual(yield* sim.count("*"), 0)
    }))

  it.effect("README's first example with GITHUB_APP_PRIVATE_KEY unset: PrivateKeyError, not a TypeError", () =>
    Effect.gen(function*() {
      const unset: string | undefined = undefined
      // What `Redacted.make(process.env.GITHUB_APP_PRIVATE_KEY!)` hands over when the variable is unset.
      const error = yield* Effect.flip(
        Effect.scoped(build(NodeIntegration.layer({
          appId: 123456,
          privateKey: Redacted.make(unset!),
          timeout: "10 seconds"
        })))
      )
      assert.strictEqual(error._tag, "PrivateKeyError")
      assert.strictEqual(error._tag === "PrivateKeyError" && error.problem, "Empty")
      assert.include(error.message, "GITHUB_APP_PRIVATE_KEY")
      // The same situation through layerConfig: a ConfigError naming what to set (Effect.flip lets defects through).
      const env = ConfigProvider.fromMap(new Map([["GITHUB_APP_ID", "123456"]]))
      const missing = yield* Effect.flip(
        Effect.scoped(build(NodeIntegration.layerConfig().pipe(Layer.provide(Layer.setConfigProvider(env)))))
      )
      assert.strictEqual(missing._tag, "ConfigError")
      assert.strictEqual(missing._tag === "ConfigError" && missing._op, "MissingData")
      assert.include(String(missing), "GITHUB_APP_PRIVATE_KEY_FILE")
    }))

  it.live("closing the scope closes the client", () =>
    Effect.gen(function*() {
      const simScope = yield* Scope.make()
      const sim = yield* Scope.extend(GithubSimulator.make({ installationCount: 1 }), simScope)
      const { url } = yield* Scope.extend(sim.server, simScope)
      const scope = yield* Scope.make()
      const github = yield* Scope.extend(
        build(NodeIntegration.layer({ appId: sim.app.id, privateKey: sim.app.privateKey, baseUrl: url })),
        scope
      )
      yield* github.getApp()
      yield* Scope.close(scope, Exit.void)
      const after = yield* Effect.exit(github.getApp())
      assert.isTrue(Exit.isFailure(after))
      yield* Scope.close(simScope, Exit.void)
    }))
})
