// Debian's Chromium for the browser tests, headless, driven by playwright-core. .ci/run installs
// it with apt-get; elsewhere, without it, the tests that need it skip (in CI they fail).
import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";
export const chromiumPresent = existsSync(CHROMIUM);
if (!chromiumPresent && process.env.CI === "true")
  throw new Error(`${CHROMIUM} is missing: .ci/run installs it with apt-get`);

/** A headless Chromium with nothing of its own going to the network. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}
