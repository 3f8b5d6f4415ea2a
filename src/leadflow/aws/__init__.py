"""leadflow on AWS: Lambda handlers, resource names, `leadflow aws init`.

Nothing here is imported by the local service; boto3 and friends are the `aws` extra.
"""
