import { assert, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"

const root = Path.join(__dirname, "..", "..")

it("README's simulator example is the test that runs", () => {
  const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
  const example = Fs.readFileSync(Path.join(__dirname, "simulator.example.test.ts"), "utf8").trimEnd()
  assert.include(readme, "```ts\n" + example + "\n```")
})

it("Quick start opens with exactly two sh lines: the demo, then install and test", () => {
  const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
  const section = readme.slice(readme.indexOf("## Quick start"))
  const block = section.slice(section.indexOf("```sh\n") + 6, section.indexOf("\n```", section.indexOf("```sh")))
  const lines = block.split("\n").filter((line) => line.trim() !== "")
  assert.strictEqual(lines.length, 2)
  assert.include(lines[0], "demo")
  assert.include(lines[1], "test")
})

it("the GitHub Actions recipe installs @effect-github/cli before it runs github-app", () => {
  const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
  const start = readme.indexOf("```yaml\n")
  const recipe = readme.slice(start, readme.indexOf("\n```", start + 1))
  const install = recipe.search(/npm install (--global|-g) @effect-github\/cli@\d/)
  assert.isAbove(install, 0)
  const uses = [...recipe.matchAll(/github-app (token|revoke)/g)].map((match) => match.index)
  assert.isAbove(uses.length, 1)
  for (const at of uses) assert.isAbove(at, install)
  assert.notMatch(recipe, /npx github-app/) // npx would fetch a package named github-app, not ours
})
