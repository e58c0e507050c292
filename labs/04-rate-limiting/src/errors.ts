/** Errors the API turns into 4xx / 5xx answers with a JSON body. Anything else is a 500. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
