/**
 * A chat model for running the examples offline: instead of calling a provider, it
 * answers with a function of the messages it was given, and records every call, so an
 * example (and its test) can show exactly what a real multimodal model would receive.
 */
import type { StructuredToolInterface } from "@langchain/core/tools";
import { BaseChatModel, type BaseChatModelParams } from "@langchain/core/language_models/chat_models";
import type { AIMessage, BaseMessage } from "@langchain/core/messages";
import type { ChatResult } from "@langchain/core/outputs";

export type Reply = (messages: BaseMessage[], tools: StructuredToolInterface[]) => AIMessage;

export class ScriptedChatModel extends BaseChatModel {
  /** The messages of every call, in order. */
  readonly calls: BaseMessage[][] = [];
  private readonly reply: Reply;
  private readonly tools: StructuredToolInterface[];

  constructor(
    reply: Reply,
    params: BaseChatModelParams = {},
    tools: StructuredToolInterface[] = [],
    calls?: BaseMessage[][],
  ) {
    super(params);
    this.reply = reply;
    this.tools = tools;
    if (calls) this.calls = calls;
  }

  _llmType(): string {
    return "scripted";
  }

  /** A copy that knows the tools (the reply function sees them) and shares this model's call log. */
  override bindTools(tools: StructuredToolInterface[]) {
    return new ScriptedChatModel(this.reply, {}, [...this.tools, ...tools], this.calls);
  }

  async _generate(messages: BaseMessage[]): Promise<ChatResult> {
    this.calls.push(messages);
    const message = this.reply(messages, this.tools);
    return { generations: [{ message, text: typeof message.content === "string" ? message.content : "" }] };
  }
}
