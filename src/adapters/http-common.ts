// What the HTTP adapters share: what counts as a failure, and failure reasons as text.

export const defaultIsFailure = (status: number): boolean => status >= 500;
/** Status texts of the statuses that usually count as failures (no node:http import: fetch runs in browsers too). */
const STATUS_TEXT: Record<number, string> = {
  429: "Too Many Requests",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
};
export const reasonOf = (status: number): string =>
  `${status} ${STATUS_TEXT[status] ?? ""}`.trimEnd();

/** A thrown value as a failure reason, whatever it is (a null-prototype object, a throwing getter…). */
export function errorText(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return "(a thrown value that cannot be read as text)";
  }
}
