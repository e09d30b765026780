#!/bin/bash
# An Azure ML batch-endpoint walkthrough in today's (GA) syntax, as Azure's
# samples write it. tests/compat/test_compat.py runs it with `az ml` replaced
# by `lote` and nothing else changed.
set -e

ENDPOINT_NAME="taxi-batch"

echo "Creating the compute cluster"
az ml compute create -n batch-cluster --type amlcompute --min-instances 0 --max-instances 5

echo "Registering the model and the data"
az ml model create --name taxi-mlflow --type "mlflow_model" --path "model"
az ml model create -f model.yml
az ml data create -f data.yml

echo "Creating the endpoint and its deployments"
az ml batch-endpoint create -n $ENDPOINT_NAME -f endpoint.yml
az ml batch-deployment create --file deployment-mlflow/deployment.yml --endpoint-name $ENDPOINT_NAME --set-default
az ml batch-deployment create --file deployment-custom/deployment.yml --endpoint-name $ENDPOINT_NAME
az ml batch-deployment create --file deployment-summary/deployment.yml --endpoint-name $ENDPOINT_NAME

echo "Invoking the default deployment on the data asset"
JOB_NAME=$(az ml batch-endpoint invoke --name $ENDPOINT_NAME --input azureml:taxi-unlabeled@latest --query name -o tsv)
az ml job show -n $JOB_NAME --web
az ml job stream -n $JOB_NAME
STATUS=$(az ml job show -n $JOB_NAME --query status -o tsv)
echo "Job $JOB_NAME: $STATUS"
if [[ $STATUS != "Completed" ]]; then
  echo "Job failed"
  exit 1
fi
az ml job download --name $JOB_NAME --output-name score --download-path ./mlflow-out

echo "Invoking the custom deployment on a local folder"
JOB_NAME=$(az ml batch-endpoint invoke --name $ENDPOINT_NAME --deployment-name taxi-custom-dpl --input data --input-type uri_folder --query name -o tsv)
az ml job stream -n $JOB_NAME
STATUS=$(az ml job show -n $JOB_NAME --query status -o tsv)
if [[ $STATUS != "Completed" ]]; then
  echo "Job failed"
  exit 1
fi
az ml job download --name $JOB_NAME --output-name score --download-path ./custom-out

echo "Invoking the summary deployment, output to a datastore path"
JOB_NAME=$(az ml batch-endpoint invoke --name $ENDPOINT_NAME --deployment-name taxi-summary-dpl --input azureml:taxi-unlabeled@latest --output-path azureml://datastores/workspaceblobstore/paths/$ENDPOINT_NAME/summaries --set output_file_name=summary.csv --query name -o tsv)
az ml job stream -n $JOB_NAME
az ml job download --name $JOB_NAME --output-name score --download-path ./summary-out

echo "Jobs of the endpoint and of a deployment"
az ml batch-endpoint list-jobs --name $ENDPOINT_NAME --query "[].name" -o tsv
az ml batch-deployment list-jobs --name taxi-custom-dpl --endpoint-name $ENDPOINT_NAME --query "[].name" -o tsv

echo "Switching the default deployment"
az ml batch-endpoint update --name $ENDPOINT_NAME --set defaults.deployment_name=taxi-custom-dpl
DEFAULT=$(az ml batch-endpoint show --name $ENDPOINT_NAME --query defaults.deployment_name -o tsv)
echo "Default deployment: $DEFAULT"
az ml batch-deployment list --endpoint-name $ENDPOINT_NAME --query "[].name" -o tsv

echo "Cleaning up"
az ml batch-deployment delete --name taxi-summary-dpl --endpoint-name $ENDPOINT_NAME --yes
az ml batch-endpoint delete --name $ENDPOINT_NAME --yes
