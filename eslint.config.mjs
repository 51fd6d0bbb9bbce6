import js from "@eslint/js"
import effect from "@effect/eslint-plugin"
import { builtinModules } from "node:module"
import tseslint from "typescript-eslint"

const portable = "@effect-github/app is the platform-agnostic core (it runs on Node, Bun, Deno, browsers): "

export default tseslint.config(
  { ignores: ["**/dist/**", "**/node_modules/**", "**/*.mjs", "packages/bench/results/**", "packages/webhooks/src/WebhookSchemas.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { "@effect": effect },
    languageOptions: { parserOptions: { ecmaVersion: 2022, sourceType: "module" } },
    rules: {
      "no-fallthrough": "off",
      "no-irregular-whitespace": "off",
      "object-shorthand": "error",
      "prefer-destructuring": "off",
      "no-unused-vars": "off",
      "prefer-rest-params": "off",
      "prefer-spread": "off",
      "@typescript-eslint/array-type": ["warn", { default: "generic", readonly: "generic" }],
      "@typescript-eslint/consistent-type-imports": "warn",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/ban-types": "off",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-empty-interface": "off",
      "@typescript-eslint/no-empty-object-type": "off",
      "@typescript-eslint/no-namespace": "off",
      "@typescript-eslint/no-unsafe-function-type": "off",
      "@effect/dprint": [
        "error",
        {
          config: {
            indentWidth: 2,
            lineWidth: 120,
            semiColons: "asi",
            quoteStyle: "alwaysDouble",
            trailingCommas: "never",
            operatorPosition: "maintain",
            "arrowFunction.useParentheses": "force"
          }
        }
      ]
    }
  },
  {
    // The core: no Node modules and no Node globals (platform code belongs in @effect-github/node).
    files: ["packages/app/src/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", {
        patterns: [{ group: ["node:*"], message: portable + "no node: imports." }],
        paths: builtinModules.map((name) => ({ name, message: portable + "no Node built-in modules." }))
      }],
      "no-restricted-globals": [
        "error",
        ...["Buffer", "process", "require", "module", "exports", "__dirname", "__filename", "global", "setImmediate"]
          .map((name) => ({ name, message: portable + "use web globals (Uint8Array, TextEncoder, setTimeout)." }))
      ]
    }
  }
)
