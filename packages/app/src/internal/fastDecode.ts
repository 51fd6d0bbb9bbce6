/**
 * A fast path to exactly what `Schema.decodeUnknown` returns, for the JSON GitHub sends.
 *
 * Effect's decoder interprets the schema for every value and builds `Either`s, issues and output objects on the
 * way: measured, a 100-item page of installations cost about 7.7 µs per item to decode (4.2 µs here, most of
 * it in the `Schema.Class` constructors) against 2 µs to `JSON.parse`. This compiles a schema's AST once into
 * plain functions for the nodes JSON models use (keywords, literals, structs, records, arrays, unions,
 * refinements, final transformations, declarations such as `Schema.Class`) and answers only when it is sure:
 * every refinement, transformation and declaration is the schema's own function, called as the decoder calls
 * it, and a union answers only when exactly one member accepts the input (then the decoder, whatever order it
 * tries members in, returns that member's result). Any other case (an invalid value, an ambiguous union, an
 * effectful transformation, a node or annotation it does not know) gives none, and the caller runs
 * `Schema.decodeUnknown`, which also gives the error.
 */
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as AST from "effect/SchemaAST"

/** What a compiled node returns for a value it does not accept (or is not sure about). */
const miss: unique symbol = Symbol("miss")
type Fast = (input: unknown) => unknown

const compiled = new WeakMap<AST.AST, Fast | null>()

const typeLiteral = (ast: AST.TypeLiteral): Fast | undefined => {
  if (ast.propertySignatures.length === 0 && ast.indexSignatures.length === 0) {
    return (input) => input !== null && input !== undefined ? input : miss
  }
  const names: Array<PropertyKey> = []
  const optional: Array<boolean> = []
  const types: Array<Fast> = []
  const expected: Record<PropertyKey, null> = {}
  for (const ps of ast.propertySignatures) {
    const type = compile(ps.type)
    if (type === undefined) return undefined
    names.push(ps.name)
    optional.push(ps.isOptional)
    types.push(type)
    expected[ps.name] = null
  }
  const indexTypes: Array<Fast> = []
  for (const is of ast.indexSignatures) {
    // string keys only: other parameters (symbols, refined or template keys) filter keys, left to the decoder
    if (is.parameter._tag !== "StringKeyword") return undefined
    const type = compile(is.type)
    if (type === undefined) return undefined
    indexTypes.push(type)
  }
  const hasOwn = Object.prototype.hasOwnProperty
  return (input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return miss
    const record = input as Record<PropertyKey, unknown>
    // the decoder's output: declared properties in declaration order, then index-signature keys
    const output: Record<PropertyKey, unknown> = {}
    for (let i = 0; i < names.length; i++) {
      const name = names[i]!
      if (optional[i] && !hasOwn.call(record, name)) continue
      const value = types[i]!(record[name])
      if (value === miss) return miss
      output[name] = value
    }
    for (let i = 0; i < indexTypes.length; i++) {
      for (const key of Object.keys(record)) {
        const value = indexTypes[i]!(record[key])
        if (value === miss) return miss
        if (!hasOwn.call(expected, key)) output[key] = value
      }
    }
    return output
  }
}

const union = (ast: AST.Union): Fast | undefined => {
  const members: Array<Fast> = []
  for (const type of ast.types) {
    const member = compile(type)
    if (member === undefined) return undefined
    members.push(member)
  }
  return (input) => {
    let found: unknown = miss
    for (const member of members) {
      const value = member(input)
      if (value === miss) continue
      // two members accept it: which one wins is the decoder's business
      if (found !== miss) return miss
      found = value
    }
    return found
  }
}

const build = (ast: AST.AST): Fast | undefined => {
  if (
    Option.isSome(AST.getParseOptionsAnnotation(ast)) || Option.isSome(AST.getDecodingFallbackAnnotation(ast))
  ) return undefined
  switch (ast._tag) {
    case "StringKeyword":
      return (input) => typeof input === "string" ? input : miss
    case "NumberKeyword":
      return (input) => typeof input === "number" ? input : miss
    case "BooleanKeyword":
      return (input) => typeof input === "boolean" ? input : miss
    case "UndefinedKeyword":
      return (input) => input === undefined ? input : miss
    case "UnknownKeyword":
    case "AnyKeyword":
    case "VoidKeyword":
      return (input) => input
    case "Literal": {
      const literal = ast.literal
      return (input) => input === literal ? input : miss
    }
    case "Refinement": {
      const from = compile(ast.from)
      if (from === undefined) return undefined
      return (input) => {
        const value = from(input)
        return value !== miss && Option.isNone(ast.filter(value, AST.defaultParseOption, ast)) ? value : miss
      }
    }
    case "Transformation": {
      if (ast.transformation._tag !== "FinalTransformation") return undefined
      const from = compile(ast.from)
      const to = compile(ast.to)
      if (from === undefined || to === undefined) return undefined
      const decode = ast.transformation.decode
      return (input) => {
        const value = from(input)
        if (value === miss) return miss
        const result = decode(value, AST.defaultParseOption, ast, input)
        // an Effect (not an Either) may need services or time: the decoder runs it
        return Either.isEither(result) && Either.isRight(result) ? to(result.right) : miss
      }
    }
    case "Declaration": {
      const parse = ast.decodeUnknown(...ast.typeParameters)
      return (input) => {
        const result = parse(input, AST.defaultParseOption, ast)
        return Either.isEither(result) && Either.isRight(result) ? result.right : miss
      }
    }
    case "TupleType": {
      // arrays (`Schema.Array`): no fixed elements, one rest element
      if (ast.elements.length !== 0 || ast.rest.length !== 1) return undefined
      const item = compile(ast.rest[0]!.type)
      if (item === undefined) return undefined
      return (input) => {
        if (!Array.isArray(input)) return miss
        const output = new Array<unknown>(input.length)
        for (let i = 0; i < input.length; i++) {
          const value = item(input[i])
          if (value === miss) return miss
          output[i] = value
        }
        return output
      }
    }
    case "TypeLiteral":
      return typeLiteral(ast)
    case "Union":
      return union(ast)
    default:
      return undefined
  }
}

const compile = (ast: AST.AST): Fast | undefined => {
  const known = compiled.get(ast)
  if (known !== undefined) return known ?? undefined
  const fast = build(ast)
  compiled.set(ast, fast ?? null)
  return fast
}

/**
 * The decoded value when the fast path is sure of it, else `undefined` (decode with `Schema.decodeUnknown`).
 *
 * @internal
 */
export const make = (ast: AST.AST): ((input: unknown) => Option.Option<unknown>) | undefined => {
  const fast = compile(ast)
  if (fast === undefined) return undefined
  return (input) => {
    const value = fast(input)
    return value === miss ? Option.none() : Option.some(value)
  }
}
