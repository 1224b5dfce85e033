/* Error documentation that several routes share; a route's own errors are documented beside it. */
import { DatasetNotFound, JobNotFound, ServiceUnavailable, Unauthorized } from '../errors.js';
import { type ErrorDoc, errorBody, headerDoc } from './common.js';
import { DATASET_ID_EXAMPLE, JOB_ID_EXAMPLE } from './examples.js';

/** The answer when a token is configured and the request does not bring it. */
export function unauthorized(token: 'ROWPOOL_API_TOKEN' | 'ROWPOOL_METRICS_TOKEN'): ErrorDoc {
  return {
    description: `${token} is set and the request did not bring it as a bearer token`,
    example: errorBody(new Unauthorized()),
    headers: { 'WWW-Authenticate': headerDoc('The scheme to authenticate with', 'Bearer') },
  };
}

export const DATASET_NOT_FOUND: ErrorDoc = {
  description: 'No dataset has this id',
  example: errorBody(new DatasetNotFound(DATASET_ID_EXAMPLE)),
};

export const JOB_NOT_FOUND: ErrorDoc = {
  description: 'No job has this id',
  example: errorBody(new JobNotFound(JOB_ID_EXAMPLE)),
};

export const SHUTTING_DOWN: ErrorDoc = {
  description: 'rowpool is shutting down',
  example: errorBody(new ServiceUnavailable('rowpool is shutting down and takes no new uploads or jobs')),
};
