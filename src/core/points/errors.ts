/**
 * Thrown by the point-cloud core when the DATA cannot give an answer (a singular system from
 * flat geometry, no consistent correspondences, coincident points where a scale is asked):
 * callers turn it into a user-facing error with its hint. Anything else thrown (RangeError,
 * TypeError) is a bug or a wrong call and must not be dressed up as bad data.
 */
export class PointsError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'PointsError';
  }
}
