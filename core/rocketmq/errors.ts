import { describeValue, MqlabError } from '../errors';

/**
 * Every error the RocketMQ engine raises, made in one place. Codes are RocketMQ's own response
 * code names (`ResponseCode`), so a RocketMQ user recognises them.
 */
/** A user value as message text: strings as they are, anything else described (never throws). */
const text = (v: unknown): string => (typeof v === 'string' ? v : describeValue(v));

export const RocketErrors = {
  topicNotExist: (topic: string) =>
    new MqlabError('TOPIC_NOT_EXIST', `topic[${text(topic)}] not exist, apply first please!`, { topic }),
  groupNotExist: (group: string) =>
    new MqlabError('SUBSCRIPTION_GROUP_NOT_EXIST', `subscription group [${text(group)}] does not exist`, { group }),
  subscriptionParseFailed: (expression: unknown, why: string) =>
    new MqlabError('SUBSCRIPTION_PARSE_FAILED', `subscription expression ${describeValue(expression)} cannot be parsed: ${why}`, { expression }),
  messageIllegal: (why: string, details?: Record<string, unknown>) => new MqlabError('MESSAGE_ILLEGAL', why, details),
  queryNotFound: (what: string, details?: Record<string, unknown>) =>
    new MqlabError('QUERY_NOT_FOUND', `no message found for ${what}`, details),
  noRoute: (topic: string) =>
    new MqlabError('TOPIC_NOT_EXIST', `No route info of this topic: ${text(topic)}`, { topic }),
  brokerNotFound: (what: string) => new MqlabError('SERVICE_NOT_AVAILABLE', `broker ${text(what)} is not available`, { broker: what }),
  illegalQueue: (topic: string, queueId: number) =>
    new MqlabError('ERR_INVALID_ARG', `topic ${text(topic)} has no queue ${describeValue(queueId)}`, { topic, queueId }),
  notStarted: (what: string) => new MqlabError('SERVICE_NOT_AVAILABLE', `${what} is not running (start() it first, or it was shut down)`),
  invalid: (what: string, expectation: string) => new MqlabError('ERR_INVALID_ARG', `${what} must be ${expectation}`),
};
