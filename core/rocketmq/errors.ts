import { MqlabError } from '../errors';

/**
 * Every error the RocketMQ engine raises, made in one place. Codes are RocketMQ's own response
 * code names (`ResponseCode`), so a RocketMQ user recognises them.
 */
export const RocketErrors = {
  topicNotExist: (topic: string) =>
    new MqlabError('TOPIC_NOT_EXIST', `topic[${topic}] not exist, apply first please!`, { topic }),
  groupNotExist: (group: string) =>
    new MqlabError('SUBSCRIPTION_GROUP_NOT_EXIST', `subscription group [${group}] does not exist`, { group }),
  subscriptionParseFailed: (expression: string, why: string) =>
    new MqlabError('SUBSCRIPTION_PARSE_FAILED', `subscription expression ${JSON.stringify(expression)} cannot be parsed: ${why}`, { expression }),
  messageIllegal: (why: string, details?: Record<string, unknown>) => new MqlabError('MESSAGE_ILLEGAL', why, details),
  queryNotFound: (what: string, details?: Record<string, unknown>) =>
    new MqlabError('QUERY_NOT_FOUND', `no message found for ${what}`, details),
  noRoute: (topic: string) =>
    new MqlabError('TOPIC_NOT_EXIST', `No route info of this topic: ${topic}`, { topic }),
  brokerNotFound: (what: string) => new MqlabError('SERVICE_NOT_AVAILABLE', `broker ${what} is not available`, { broker: what }),
  illegalQueue: (topic: string, queueId: number) =>
    new MqlabError('ERR_INVALID_ARG', `topic ${topic} has no queue ${queueId}`, { topic, queueId }),
  notStarted: (what: string) => new MqlabError('SERVICE_NOT_AVAILABLE', `${what} is not running (start() it first, or it was shut down)`),
  invalid: (what: string, expectation: string) => new MqlabError('ERR_INVALID_ARG', `${what} must be ${expectation}`),
};
