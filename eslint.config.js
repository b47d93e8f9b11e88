// ESLint (flat config) for the citizen app's own JavaScript and its unit tests. The
// vendored libraries (client/static/client/vendor/) are not ours and are not linted.
import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";

export default [
  {
    // sw.js is a Django template (client/templates/), not JavaScript until rendered.
    ignores: [
      "client/static/client/vendor/**",
      "client/templates/**",
      "node_modules/**",
      ".venv/**",
      "staticfiles/**",
    ],
  },
  {
    files: ["client/static/client/**/*.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...js.configs.recommended.rules,
      ...reactHooks.configs.recommended.rules,
    },
  },
  {
    files: ["tests/js/**/*.mjs", "eslint.config.js"],
    ...js.configs.recommended,
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: { ...globals.node },
    },
  },
];
