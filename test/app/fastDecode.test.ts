import * as Account from "@effect-github/app/Account"
import { GithubApp } from "@effect-github/app/GithubApp"
import { Installation } from "@effect-github/app/Installation"
import { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import { InstallationRepositories, Repository } from "@effect-github/app/Repository"
import { assert, describe, it } from "@effect/vitest"
import { Arbitrary, Effect, Either, FastCheck as fc, Option, Schema } from "effect"
import { isDeepStrictEqual } from "node:util"
import * as FastDecode from "../../packages/app/src/internal/fastDecode.js"

// The fast path must give exactly Schema's value (prototypes, key order, Dates) or step aside.
let answered = 0
const agrees = (schema: Schema.Schema<any, any>, input: unknown): boolean => {
  const fast = FastDecode.make(schema.ast)
  assert.isDefined(fast)
  const expected = Schema.decodeUnknownEither(schema)(input)
  const got = fast!(input)
  if (Either.isLeft(expected)) return Option.isNone(got)
  if (Option.isNone(got)) return true
  answered++
  return isDeepStrictEqual(got.value, expected.right) && JSON.stringify(got.value) === JSON.stringify(expected.right)
}

const models: ReadonlyArray<readonly [string, Schema.Schema<any, any>]> = [
  ["GithubApp", GithubApp],
  ["Installation", Installation],
  ["Array(Installation)", Schema.Array(Installation)],
  ["InstallationAuthorization", InstallationAuthorization],
  ["Repository", Repository],
  ["InstallationRepositories", InstallationRepositories],
  ["Account", Account.Account]
]

const json = fc.jsonValue({ maxDepth: 2 })

/** A valid encoded value, then maybe broken: a key dropped, a value replaced, or a key added. */
const inputs = (schema: Schema.Schema<any, any>) =>
  Arbitrary.make(schema).chain((value) => {
    const encoded = Schema.encodeSync(schema)(value) as unknown
    if (typeof encoded !== "object" || encoded === null || Array.isArray(encoded)) return fc.constant(encoded)
    const keys = Object.keys(encoded)
    return fc.oneof(
      fc.constant(encoded),
      fc.nat().map((i) => {
        const copy: Record<string, unknown> = { ...encoded }
        delete copy[keys[i % keys.length]!]
        return copy
      }),
      fc.tuple(fc.nat(), json).map(([i, v]) => ({ ...encoded, [keys[i % keys.length]!]: v })),
      fc.tuple(fc.string(), json).map(([k, v]) => ({ ...encoded, [k]: v }))
    )
  })

describe("fastDecode", () => {
  for (const [name, schema] of models) {
    it(`${name}: the same value as Schema.decodeUnknown, or none`, () => {
      answered = 0
      fc.assert(fc.property(inputs(schema), (input) => agrees(schema, input)), { numRuns: 300 })
      // a quarter of the inputs are valid as generated: the fast path must have answered for most of them
      assert.isAbove(answered, 50)
    })
  }

  it("structs with index signatures, optional keys, literals, unions and transformations", () => {
    const schema = Schema.Struct(
      {
        a: Schema.NumberFromString,
        b: Schema.optional(Schema.NullOr(Schema.Literal("x", "y"))),
        c: Schema.Union(Schema.Struct({ kind: Schema.Literal("one") }), Schema.Struct({ kind: Schema.Literal("two") }))
      },
      Schema.Record({ key: Schema.String, value: Schema.Unknown })
    )
    assert.isTrue(agrees(schema, { a: "1", c: { kind: "one" }, z: 3 }))
    assert.isTrue(Option.isSome(FastDecode.make(schema.ast)!({ a: "1", c: { kind: "one" } })))
    fc.assert(
      fc.property(
        fc.record({ a: fc.oneof(fc.integer().map(String), json), b: fc.constantFrom("x", "y", null, 1), c: json }, {
          requiredKeys: ["a"]
        }),
        fc.dictionary(fc.string(), json),
        (known, extra) => agrees(schema, { ...extra, ...known })
      )
    )
  })

  it("answers for valid GitHub JSON (the point of it) and is an instance of the class", () => {
    const app = {
      id: 1,
      slug: "a",
      node_id: "n",
      owner: {
        login: "o",
        id: 2,
        node_id: "m",
        type: "Organization",
        site_admin: false,
        avatar_url: "",
        url: "",
        html_url: ""
      },
      name: "A",
      description: null,
      external_url: "https://x",
      html_url: "https://x",
      created_at: "2024-01-02T03:04:05Z",
      updated_at: "2024-01-02T03:04:05Z",
      permissions: { contents: "read" },
      events: ["push"]
    }
    const decoded = FastDecode.make(GithubApp.ast)!(app)
    assert.isTrue(Option.isSome(decoded))
    const value = Option.getOrThrow(decoded) as GithubApp
    assert.instanceOf(value, GithubApp)
    assert.instanceOf(value.owner, Account.SimpleUser)
    assert.instanceOf(value.created_at, Date)
    assert.isTrue(agrees(GithubApp, app))
  })

  it("steps aside for an ambiguous union, an unknown node and an effectful transformation", () => {
    const ambiguous = Schema.Union(
      Schema.Struct({ a: Schema.String }),
      Schema.Struct({ a: Schema.String, b: Schema.optional(Schema.Number) })
    )
    assert.isTrue(Option.isNone(FastDecode.make(ambiguous.ast)!({ a: "x" })))
    assert.isUndefined(FastDecode.make(Schema.Tuple(Schema.String, Schema.Number).ast))
    const effectful = Schema.transformOrFail(Schema.String, Schema.String, {
      decode: (s) => Effect.succeed(s),
      encode: (s) => Effect.succeed(s)
    })
    assert.isTrue(Option.isNone(FastDecode.make(effectful.ast)!("x")))
  })
})
