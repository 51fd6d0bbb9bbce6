import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))

// Tests run against the sources, not a build: each workspace package resolves to its `src`.
export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@effect-github\/(app|node|testing|cli|webhooks|redis)$/,
        replacement: path.join(root, "packages/$1/src/index.ts")
      },
      {
        find: /^@effect-github\/(app|node|testing|cli|webhooks|redis)\/(.*)$/,
        replacement: path.join(root, "packages/$1/src/$2.ts")
      }
    ]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    sequence: { concurrent: false }
  }
})
