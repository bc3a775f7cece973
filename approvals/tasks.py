"""Background tasks of the 清册 engine (django.tasks; the database task worker in production)."""

from django.tasks import task


@task()
def check_import(import_id: int) -> None:
    """Read and check an uploaded 批量导入 file (approvals.services.batch.batch_import_run)."""
    from approvals.services.batch import batch_import_run

    batch_import_run(import_id=import_id)
