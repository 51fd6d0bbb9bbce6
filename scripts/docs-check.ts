/**
 * Docs check: every TypeScript block of README.md and every `@example` in the packages' JSDoc type-checks.
 *
 * Usage:
 *   node --import tsx scripts/docs-check.ts              type-check against the packages' sources (CI, `pnpm docs-check`)
 *   node --import tsx scripts/docs-check.ts --emit DIR   only write the blocks as modules into DIR (the consumer
 *                                                        check compiles them against the installed tarballs)
 *   node --import tsx scripts/docs-check.ts --list       print each block's origin and kind
 *
 * Conventions:
 * - A ```ts block with an `import` is a whole module and is compiled as written.
 * - A README block that is a fragment (no `import`: it shows calls inside a program) names its hidden wrapper
 *   in an HTML comment right above its fence, which GitHub does not render:
 *
 *       <!-- docs-check
 *       import { Integration } from "@effect-github/app"
 *       import { Effect } from "effect"
 *       export const program = Effect.gen(function*() {
 *       ...
 *       })
 *       -->
 *
 *   The line `...` alone is where the block goes. A fragment without a wrapper is an error, so no block goes
 *   unchecked by accident.
 * - JSDoc `@example` blocks must be whole modules.
 * - Each block is its own module (`export {}` is added), so blocks may reuse names.
 *
 * Exit code 0 when everything compiles; 1 with tsc's diagnostics, each mapped back to README.md:line or
 * packages/.../File.ts:line.
 */
import { execFileSync } from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.resolve(Path.dirname(new URL(import.meta.url).pathname), "..")

interface Block {
  /** `README.md:36` or `packages/app/src/Integration.ts:5`. */
  readonly origin: string
  readonly file: string
  /** 1-based line of the block's first code line in its file. */
  readonly line: number
  readonly code: string
  /** Lines before the code in the emitted module (the wrapper's head), to map diagnostics back. */
  readonly offset: number
}

const wrapperMarker = /^\s*\.\.\.\s*$/

/** ```ts blocks of a markdown file, each with the hidden wrapper that precedes it, if any. */
export const markdownBlocks = (file: string): Array<Block> => {
  const text = Fs.readFileSync(Path.join(root, file), "utf8")
  const lines = text.split("\n")
  const blocks: Array<Block> = []
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i]!)) continue
    const start = i + 1
    let end = start
    while (end < lines.length && !/^```\s*$/.test(lines[end]!)) end++
    const code = lines.slice(start, end).join("\n")
    // the wrapper: an HTML comment ending on the line right above the fence
    let wrapper: Array<string> | undefined
    if (i > 0 && lines[i - 1]!.trim() === "-->") {
      let open = i - 2
      while (open >= 0 && !lines[open]!.startsWith("<!-- docs-check")) open--
      if (open >= 0) wrapper = lines.slice(open + 1, i - 1)
    }
    blocks.push(toModule(file, start + 1, code, wrapper))
    i = end
  }
  return blocks
}

const toModule = (file: string, line: number, code: string, wrapper: Array<string> | undefined): Block => {
  const origin = `${file}:${line}`
  const whole = /^\s*import\s/m.test(code)
  if (wrapper === undefined) {
    if (!whole) {
      throw new Error(`${origin}: a fragment (no import) needs a <!-- docs-check ... --> wrapper above its fence`)
    }
    return { origin, file, line, code: `${code}\nexport {}\n`, offset: 0 }
  }
  const at = wrapper.findIndex((l) => wrapperMarker.test(l))
  if (at < 0) throw new Error(`${origin}: its docs-check wrapper has no "..." line for the block`)
  const head = wrapper.slice(0, at)
  return {
    origin,
    file,
    line,
    code: [...head, code, ...wrapper.slice(at + 1), "export {}", ""].join("\n"),
    offset: head.length
  }
}

/** ```ts blocks inside JSDoc `@example`s of the packages' sources. */
export const jsdocBlocks = (): Array<Block> => {
  const blocks: Array<Block> = []
  const packages = Fs.readdirSync(Path.join(root, "packages")).filter((name) => name !== "bench")
  for (const name of packages) {
    const src = Path.join(root, "packages", name, "src")
    if (!Fs.existsSync(src)) continue
    for (const entry of Fs.readdirSync(src, { recursive: true }) as Array<string>) {
      if (!entry.endsWith(".ts")) continue
      const file = Path.join("packages", name, "src", entry)
      const lines = Fs.readFileSync(Path.join(root, file), "utf8").split("\n")
      for (let i = 0; i < lines.length; i++) {
        if (!/^\s*\*\s*@example\b/.test(lines[i]!)) continue
        let open = i + 1
        while (open < lines.length && !/^\s*\*\s*```/.test(lines[open]!)) open++
        let close = open + 1
        while (close < lines.length && !/^\s*\*\s*```/.test(lines[close]!)) close++
        const code = lines.slice(open + 1, close).map((l) => l.replace(/^\s*\* ?/, "")).join("\n")
        blocks.push(toModule(file, open + 2, code, undefined))
        i = close
      }
    }
  }
  return blocks
}

const moduleName = (block: Block, index: number) =>
  `${String(index).padStart(3, "0")}-${block.file.replace(/[^A-Za-z0-9]+/g, "_")}-${block.line}.ts`

/** Writes each block as a module into `dir`; returns the file name of each. */
export const emit = (blocks: ReadonlyArray<Block>, dir: string): Array<string> => {
  Fs.mkdirSync(dir, { recursive: true })
  return blocks.map((block, index) => {
    const name = moduleName(block, index)
    Fs.writeFileSync(Path.join(dir, name), block.code)
    return name
  })
}

const sourcesTsconfig = (dir: string) => ({
  extends: Path.join(root, "tsconfig.base.json"),
  compilerOptions: {
    noEmit: true,
    composite: false,
    incremental: false,
    declaration: false,
    declarationMap: false,
    noUnusedLocals: false,
    // the README's programs read `process.env`; the packages are resolved to their sources
    types: ["node"],
    typeRoots: [Path.join(root, "node_modules/@types")],
    baseUrl: root,
    paths: Object.fromEntries(
      ["app", "node", "testing", "cli"].flatMap((name) => [
        [`@effect-github/${name}`, [`packages/${name}/src/index.ts`]],
        [`@effect-github/${name}/*`, [`packages/${name}/src/*.ts`]]
      ])
    )
  },
  include: [Path.join(dir, "*.ts")]
})

const main = () => {
  const args = process.argv.slice(2)
  const blocks = [...markdownBlocks("README.md"), ...jsdocBlocks()]
  if (args[0] === "--list") {
    for (const block of blocks) console.log(`${block.origin}${block.offset > 0 ? " (fragment, wrapped)" : ""}`)
    return
  }
  if (args[0] === "--emit") {
    const dir = Path.resolve(args[1] ?? "docs-blocks")
    emit(blocks, dir)
    console.log(`docs-check: ${blocks.length} blocks written to ${dir}`)
    return
  }
  // A directory inside the repository, so imports of effect, @effect/* and the test tools resolve from its
  // node_modules.
  const dir = Fs.mkdtempSync(Path.join(root, "node_modules", ".cache", "docs-check-"))
  try {
    const names = emit(blocks, dir)
    Fs.writeFileSync(Path.join(dir, "tsconfig.json"), JSON.stringify(sourcesTsconfig(dir), null, 2))
    try {
      execFileSync(process.execPath, [Path.join(root, "node_modules/typescript/bin/tsc"), "-p", dir], {
        encoding: "utf8",
        stdio: "pipe"
      })
    } catch (error) {
      const output = String((error as { stdout?: string }).stdout ?? error)
      // `000-README_md-36.ts(5,3): error ...` → `README.md:40: error ...`
      const mapped = output.replace(/^(?:.*[/\\])?(\d{3}-[^(]+\.ts)\((\d+),(\d+)\)/gm, (whole, name, line) => {
        const index = names.indexOf(name)
        const block = blocks[index]
        return block === undefined ? whole : `${block.file}:${block.line + Number(line) - 1 - block.offset}`
      })
      console.error(mapped.trim())
      console.error(`docs-check: FAILED (${blocks.length} blocks)`)
      process.exitCode = 1
      return
    }
    console.log(`docs-check: ${blocks.length} TypeScript blocks compile (README.md and JSDoc @example)`)
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && Path.resolve(process.argv[1]) === Path.join(root, "scripts", "docs-check.ts")) {
  main()
}
