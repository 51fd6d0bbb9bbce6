import * as Account from "@effect-github/app/Account"
import { GithubApp } from "@effect-github/app/GithubApp"
import { GithubDecodeError } from "@effect-github/app/GithubError"
import { Installation } from "@effect-github/app/Installation"
import { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import * as Permissions from "@effect-github/app/Permissions"
import { InstallationRepositories, Repository } from "@effect-github/app/Repository"
import { assert, describe, it } from "@effect/vitest"
import { Either, Redacted, Schema } from "effect"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { inspect } from "node:util"

// GitHub's own OpenAPI descriptions: api.github.com, GHEC and every GHES version the package ships.
const generated = join(dirname(createRequire(import.meta.url).resolve("@octokit/openapi/package.json")), "generated")
const descriptions = ["api.github.com", "ghec", "ghes-3.17", "ghes-3.18", "ghes-3.19"]

type Json = any
const load = (name: string): Json => JSON.parse(readFileSync(join(generated, `${name}.json`), "utf8"))
const resolve = (spec: Json, node: Json): Json =>
  node?.$ref === undefined
    ? node
    : resolve(spec, node.$ref.slice(2).split("/").reduce((o: Json, k: string) => o[k], spec))

const routes: Array<[method: string, path: string, schema: Schema.Schema<any, any>]> = [
  ["get", "/app", GithubApp],
  ["get", "/app/installations", Schema.Array(Installation)],
  ["get", "/app/installations/{installation_id}", Installation],
  ["get", "/orgs/{org}/installation", Installation],
  ["get", "/repos/{owner}/{repo}/installation", Installation],
  ["get", "/users/{username}/installation", Installation],
  ["get", "/enterprises/{enterprise}/installation", Installation],
  ["post", "/app/installations/{installation_id}/access_tokens", InstallationAuthorization],
  ["get", "/installation/repositories", InstallationRepositories]
]

const decode = <A, I>(schema: Schema.Schema<A, I>, input: unknown): A =>
  Schema.decodeUnknownSync(schema, { errors: "all" })(input)

describe("models decode every example in GitHub's descriptions", () => {
  for (const name of descriptions) {
    const spec = load(name)
    for (const [method, path, schema] of routes) {
      const operation = spec.paths[path]?.[method]
      // The enterprise route exists on GHEC only; every other route must be present everywhere.
      if (operation === undefined && path.startsWith("/enterprises/") && name !== "ghec") continue
      it(`${name}: ${method.toUpperCase()} ${path}`, () => {
        assert.isDefined(operation, `${path} missing from ${name}`)
        const [status, response] = Object.entries(operation.responses).find(([code]) => code.startsWith("2"))!
        const examples = Object.entries(resolve(spec, response).content["application/json"].examples)
        assert.isAbove(examples.length, 0, `no example for ${status}`)
        for (const [, ref] of examples) {
          const example = resolve(spec, ref).value
          const decoded = decode(schema, example)
          const pairs: Array<[Json, Json]> = Array.isArray(example) ? example.map((e, i) => [e, decoded[i]]) : [[
            example,
            decoded
          ]]
          for (const [raw, model] of pairs) {
            if ("token" in raw) {
              assert.strictEqual(Redacted.value(model.token), raw.token)
              assert.strictEqual(model.expires_at.getTime(), Date.parse(raw.expires_at))
            } else if ("repositories" in raw) {
              assert.strictEqual(model.repositories[0].full_name, raw.repositories[0].full_name)
            } else {
              assert.strictEqual(model.id, raw.id)
              assert.strictEqual(model.created_at.getTime(), Date.parse(raw.created_at))
              assert.deepStrictEqual({ ...model.permissions }, raw.permissions)
            }
          }
        }
      })
    }
  }

  it("knows every permission GitHub documents", () => {
    const documented = Object.keys(load("api.github.com").components.schemas["app-permissions"].properties).sort()
    assert.deepStrictEqual([...Permissions.knownNames].sort(), documented)
  })
})

const user = {
  login: "octo-org",
  id: 9919,
  node_id: "MDEyOk9yZ2FuaXphdGlvbjk5MTk=",
  avatar_url: "https://avatars.githubusercontent.com/u/9919?v=4",
  gravatar_id: "",
  url: "https://api.github.com/users/octo-org",
  html_url: "https://github.com/octo-org",
  followers_url: "https://api.github.com/users/octo-org/followers",
  type: "Organization",
  site_admin: false
}

const enterprise = {
  id: 42,
  node_id: "MDEwOkVudGVycHJpc2U0Mg==",
  name: "Octo Enterprise",
  slug: "octo-enterprise",
  html_url: "https://github.com/enterprises/octo-enterprise",
  avatar_url: "https://avatars.githubusercontent.com/b/42?v=4",
  website_url: null,
  description: null,
  created_at: "2019-05-14T19:31:12Z",
  updated_at: "2023-01-01T00:00:00.000+02:00"
}

const installation = {
  id: 1,
  account: user,
  repository_selection: "selected",
  access_tokens_url: "https://api.github.com/app/installations/1/access_tokens",
  repositories_url: "https://api.github.com/installation/repositories",
  html_url: "https://github.com/organizations/octo-org/settings/installations/1",
  app_id: 7,
  app_slug: "octo-app",
  target_id: 9919,
  target_type: "Organization",
  permissions: { contents: "read", metadata: "read", some_future_permission: "manage" },
  events: ["push"],
  created_at: "2024-03-01T10:20:30.123Z",
  updated_at: "2024-03-01T12:20:30+02:00",
  single_file_name: null,
  suspended_by: null,
  suspended_at: null,
  some_future_field: { nested: true }
}

const token = "ghs_16C7e42F292c6912E7710c838347Ae178B4a"

describe("Installation", () => {
  it("decodes GitHub's wire names, timestamps with milliseconds or offsets, and drops unknown fields", () => {
    const decoded = decode(Installation, installation)
    assert.instanceOf(decoded, Installation)
    assert.strictEqual(decoded.created_at.toISOString(), "2024-03-01T10:20:30.123Z")
    assert.strictEqual(decoded.updated_at.toISOString(), "2024-03-01T10:20:30.000Z")
    assert.strictEqual(decoded.permissions.some_future_permission, "manage")
    assert.isFalse("some_future_field" in decoded)
    assert.instanceOf(decoded.account, Account.SimpleUser)
    assert.isFalse("followers_url" in decoded.account!)
    assert.strictEqual(Account.name(decoded.account!), "octo-org")
    assert.isFalse(decoded.isSuspended)
    assert.isUndefined(decoded.client_id)
  })

  it("takes null where GitHub sends it, and an enterprise account", () => {
    const suspended = decode(Installation, {
      ...installation,
      account: null,
      single_file_name: "config.yml",
      suspended_by: user,
      suspended_at: "2024-04-01T00:00:00Z"
    })
    assert.isNull(suspended.account)
    assert.strictEqual(suspended.single_file_name, "config.yml")
    assert.strictEqual(suspended.suspended_by?.login, "octo-org")
    assert.isTrue(suspended.isSuspended)
    const onEnterprise = decode(Installation, { ...installation, account: enterprise, target_type: "Enterprise" })
    assert.instanceOf(onEnterprise.account, Account.Enterprise)
    assert.strictEqual(Account.name(onEnterprise.account!), "octo-enterprise")
    assert.strictEqual(
      (onEnterprise.account as Account.Enterprise).updated_at?.toISOString(),
      "2022-12-31T22:00:00.000Z"
    )
  })

  it("is strict on what clients rely on", () => {
    const { id: _id, ...noId } = installation
    const bad: Array<unknown> = [
      noId,
      { ...installation, id: "1" },
      { ...installation, id: 1.5 },
      { ...installation, app_id: null },
      { ...installation, created_at: "yesterday" },
      { ...installation, repository_selection: "some" },
      { ...installation, account: { ...user, login: undefined } },
      { ...installation, permissions: { contents: 1 } }
    ]
    for (const input of bad) assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(Installation)(input)))
  })

  it("round-trips through its encoded form", () => {
    const decoded = decode(Installation, installation)
    const encoded = Schema.encodeSync(Installation)(decoded)
    assert.deepStrictEqual(decode(Installation, encoded), decoded)
    assert.strictEqual(encoded.created_at, "2024-03-01T10:20:30.123Z")
  })
})

describe("InstallationAuthorization", () => {
  const body = {
    token,
    expires_at: "2024-03-01T11:20:30Z",
    permissions: { contents: "read" },
    repository_selection: "selected",
    repositories: [{
      id: 1296269,
      node_id: "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
      name: "Hello-World",
      full_name: "octocat/Hello-World",
      owner: user,
      private: false,
      html_url: "https://github.com/octocat/Hello-World",
      url: "https://api.github.com/repos/octocat/Hello-World",
      temp_clone_token: "ABTLWHOULUVAXGTRYU7OC2876QJ2O",
      pushed_at: null
    }],
    single_file: "config.yml",
    single_file_paths: ["config.yml"],
    has_multiple_single_files: false
  }

  it("decodes the token as Redacted and expires_at as a Date", () => {
    const auth = decode(InstallationAuthorization, body)
    assert.isTrue(Redacted.isRedacted(auth.token))
    assert.strictEqual(Redacted.value(auth.token), token)
    assert.strictEqual(auth.expires_at.toISOString(), "2024-03-01T11:20:30.000Z")
    assert.strictEqual(auth.repositories?.[0]?.full_name, "octocat/Hello-World")
    assert.isNull(auth.repositories?.[0]?.pushed_at)
    assert.deepStrictEqual(auth.single_file_paths, ["config.yml"])
    // The only minimal body GitHub promises.
    const minimal = decode(InstallationAuthorization, { token, expires_at: "2024-03-01T11:20:30.5+00:00" })
    assert.strictEqual(minimal.expires_at.getTime(), Date.parse("2024-03-01T11:20:30.500Z"))
  })

  it("never shows the token (or a repository's clone token) when printed", () => {
    const auth = decode(InstallationAuthorization, body)
    for (const text of [String(auth), JSON.stringify(auth), inspect(auth, { depth: 10 }), `${auth.token}`]) {
      assert.notInclude(text, token)
      assert.notInclude(text, "ABTLWHOULUVAXGTRYU7OC2876QJ2O")
    }
    assert.include(JSON.stringify(auth), "<redacted>")
  })

  it("encodes the token back (for simulators), and a decode failure does not quote it", () => {
    const auth = decode(InstallationAuthorization, body)
    assert.strictEqual(Schema.encodeSync(InstallationAuthorization)(auth).token, token)
    for (
      const input of [{ ...body, expires_at: "soon" }, { ...body, expires_at: undefined }, {
        expires_at: body.expires_at
      }]
    ) {
      const result = Schema.decodeUnknownEither(InstallationAuthorization)(input)
      assert.isTrue(Either.isLeft(result))
      if (Either.isLeft(result)) {
        const error = GithubDecodeError.fromParseError(result.left, { route: "/app/installations/{id}/access_tokens" })
        for (const text of [String(error), JSON.stringify(error), inspect(error)]) assert.notInclude(text, token)
      }
    }
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(InstallationAuthorization)({ ...body, token: 42 })))
  })
})

describe("GithubApp and repositories", () => {
  it("GithubApp drops secrets that other routes add to the app's shape", () => {
    const app = decode(GithubApp, {
      id: 7,
      slug: "octo-app",
      node_id: "MDExOkludGVncmF0aW9uNw==",
      owner: enterprise,
      name: "Octo App",
      description: null,
      external_url: "https://example.com",
      html_url: "https://github.com/apps/octo-app",
      created_at: "2024-01-01T00:00:00Z",
      updated_at: "2024-01-01T00:00:00Z",
      permissions: { metadata: "read" },
      events: [],
      client_secret: "c0ffee-secret",
      webhook_secret: "hook-secret",
      pem: "-----BEGIN RSA PRIVATE KEY-----"
    })
    assert.instanceOf(app.owner, Account.Enterprise)
    assert.isNull(app.description)
    for (const text of [JSON.stringify(app), String(app), inspect(app)]) {
      assert.notInclude(text, "c0ffee-secret")
      assert.notInclude(text, "hook-secret")
      assert.notInclude(text, "BEGIN RSA")
    }
  })

  it("a repositories page decodes, with or without repository_selection", () => {
    const repository = decode(Repository, {
      id: 1,
      node_id: "R_1",
      name: "r",
      full_name: "o/r",
      owner: user,
      private: true,
      html_url: "https://github.com/o/r",
      url: "https://api.github.com/repos/o/r",
      permissions: { admin: false, push: true, pull: true },
      license: null,
      topics: ["a"]
    })
    const page = decode(InstallationRepositories, {
      total_count: 1,
      repositories: [Schema.encodeSync(Repository)(repository)],
      repository_selection: "all"
    })
    assert.deepStrictEqual(page.repositories[0], repository)
    assert.isTrue(Either.isLeft(Schema.decodeUnknownEither(InstallationRepositories)({ repositories: [] })))
  })
})
