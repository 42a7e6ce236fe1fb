import { defineErrors } from './AppError.ts';

/** Error codes every service built on the platform can answer with. Domains declare their own beside them. */
export const PlatformErrors = defineErrors({
  INVALID_JSON: {
    status: 400,
    title: 'Invalid JSON',
    message: 'The request body is not valid JSON.',
  },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    title: 'Unsupported media type',
    message: 'The request body must be sent as application/json.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    title: 'Payload too large',
    message: 'The request body is larger than this endpoint accepts.',
  },
  MISSING_REQUIRED_FIELDS: {
    status: 400,
    title: 'Missing required fields',
    message: 'One or more required fields are missing.',
  },
  VALIDATION_FAILED: {
    status: 400,
    title: 'Validation failed',
    message: 'One or more fields have the wrong type or shape.',
  },
  UNAUTHENTICATED: {
    status: 401,
    title: 'Unauthenticated',
    message: 'A valid bearer token is required.',
  },
  MALFORMED_REQUEST: {
    status: 400,
    title: 'Malformed request',
    message: 'The request is not valid HTTP.',
  },
  REQUEST_TIMEOUT: {
    status: 408,
    title: 'Request timeout',
    message: 'The request was not received in time.',
  },
  // Never sent (nobody is left to read it): what the request line and the metrics record, as nginx's 499.
  CLIENT_CLOSED_REQUEST: {
    status: 499,
    title: 'Client closed request',
    message: 'The client closed the connection before the answer was sent.',
  },
  HEADERS_TOO_LARGE: {
    status: 431,
    title: 'Request headers too large',
    message: 'The request headers are larger than this service accepts.',
  },
  INVALID_URL: {
    status: 400,
    title: 'Invalid URL',
    message: 'The URL is not valid (a malformed percent-encoding).',
  },
  URL_TOO_LONG: {
    status: 414,
    title: 'URL too long',
    message: 'A path segment of the URL is longer than this endpoint accepts.',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    title: 'Not found',
    message: 'No such endpoint.',
  },
  RATE_LIMITED: {
    status: 429,
    title: 'Too many requests',
    message: 'Too many requests. Please slow down.',
    retryable: true,
  },
  SERVICE_TEMPORARILY_UNAVAILABLE: {
    status: 503,
    title: 'Service temporarily unavailable',
    message: 'A service this request depends on is temporarily unavailable. Please try again shortly.',
    retryable: true,
  },
  SERVER_OVERLOADED: {
    status: 503,
    title: 'Server overloaded',
    message: 'The server is handling too many requests. Please try again shortly.',
    retryable: true,
  },
  SHUTTING_DOWN: {
    status: 503,
    title: 'Shutting down',
    message: 'This instance is shutting down. Please retry; another instance will answer.',
    retryable: true,
  },
  INTERNAL_SERVER_ERROR: {
    status: 500,
    title: 'Internal server error',
    message: 'An unexpected error occurred. Please try again or contact support.',
  },
});
