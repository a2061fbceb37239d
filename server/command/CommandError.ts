/**
 * A command that could not be carried out, with the HTTP status the command API answers:
 * 404 the conference or participant is not live (or ended meanwhile), 400 the rules refused it
 * (the guide's reason), 503 its node is not connected, 504 its node did not answer in time.
 */
export class CommandError extends Error {
  constructor(
    readonly httpStatus: 400 | 404 | 503 | 504,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
