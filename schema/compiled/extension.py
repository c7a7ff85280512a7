"""The planner's door into Strawberry's pipeline: a schema extension.

By ``on_execute`` Strawberry has parsed the document, the persisted-document policy has
resolved it, the limits and validation have let it through; if the document has a plan
(and the request the raw reader it may need), the plan's answer becomes the execution result and
graphql-core's executor does not run. Everything after (error masking, the HTTP view's
headers, caching, metrics) is the same for either.
"""

from collections.abc import AsyncIterator

from graphql import ExecutionResult as GraphQLExecutionResult
from strawberry.extensions import SchemaExtension

from schema.compiled import planner_of
from schema.context import Context


class PlannedReads(SchemaExtension):
    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        context = execution.context
        if (
            isinstance(context, Context)
            and context.planned
            and not execution.pre_execution_errors
            and execution.graphql_document is not None
            and execution.query is not None
        ):
            queries = planner_of(execution.schema)
            plan = queries.plan(
                execution.query,
                execution.graphql_document,
                execution.operation_name,
                execution.variables,
                raw=context.raw_reader is not None,
            )
            if plan is not None and (context.raw_reader is not None or not plan.reads_raw):
                data = await queries.answer(plan, execution.variables, context)
                if data is not None:
                    execution.result = GraphQLExecutionResult(data=data, errors=None)
                    context.answered_by_plan = True
        yield
